/**
 * The mini-program code that shows a card component: it fetches the component's public view
 * (template look and claim link) and opens the claim link when the customer taps.
 */
export function componentSnippet(publicUrl: string): string {
  return [
    '// pages/card/card.js',
    'Page({',
    '  data: { card: null },',
    '  onLoad() {',
    `    my.request({ url: '${publicUrl}', success: (res) => this.setData({ card: res.data }) })`,
    '  },',
    '  claim() {',
    '    my.ap.navigateToAlipayPage({ path: this.data.card.claimUrl })',
    '  },',
    '})',
  ].join('\n')
}

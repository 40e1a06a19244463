// Lesson pages: every <figure class="chart" data-chart="..."> becomes a live Vega chart.
(function () {
  'use strict';
  const { embed, json } = window.InferenceLab;
  async function main() {
    const figures = Array.from(document.querySelectorAll('figure.chart[data-chart]'));
    await Promise.all(
      figures.map(async (figure) => {
        try {
          const { spec } = await json(figure.getAttribute('data-chart'));
          await embed(figure, spec);
        } catch (err) {
          console.error(err);
          figure.classList.add('chart-fallback');
        }
      }),
    );
    document.body.dataset.chartsReady = String(figures.length);
  }
  main();
})();

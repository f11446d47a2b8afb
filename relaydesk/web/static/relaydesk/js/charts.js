/* Relaydesk charts: draws every <canvas data-chart-source="ID"> from the JSON in <script id="ID">
   (Django's json_script). Colours come from the CSS custom properties, so light and dark themes
   (prefers-color-scheme) both read well; the charts are redrawn when the scheme changes. */
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") return;

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  // Each bar's value written at its end (inside the right padding the chart keeps for it), so a
  // 0 % bar still reads as 0 % and nobody has to hover to get a number.
  var valueLabels = {
    id: "relaydeskValueLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "600 11px " + cssVar("--font", "sans-serif");
      ctx.fillStyle = cssVar("--text-2", "#4a5361");
      ctx.textBaseline = "middle";
      chart.data.datasets.forEach(function (dataset, i) {
        var meta = chart.getDatasetMeta(i);
        if (meta.hidden) return;
        meta.data.forEach(function (bar, index) {
          var value = dataset.data[index];
          var text = value === null || value === undefined ? "—" : value + " %";
          var x = value === null || value === undefined ? chart.chartArea.left : bar.x;
          ctx.fillText(text, x + 5, bar.y);
        });
      });
      ctx.restore();
    }
  };

  // The box may be taller than the bars need (it matches the definitions beside it): keep each
  // group's bars together, about BAR px thick, instead of spreading them over the whole band.
  var BAR = 20;
  var groupedBars = {
    id: "relaydeskGroupedBars",
    afterLayout: function (chart) {
      var groups = chart.data.labels.length || 1;
      var band = chart.chartArea.height / groups;
      var share = Math.max(0.2, Math.min(0.8, (chart.data.datasets.length * BAR) / band));
      chart.data.datasets.forEach(function (dataset) { dataset.categoryPercentage = share; });
    }
  };

  function attainmentConfig(spec) {
    var text = cssVar("--text-2", "#4a5361");
    var grid = cssVar("--border", "#e2e5ea");
    var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series) {
          var color = cssVar(series.color, "#2f5bd3");
          return {
            label: series.label,
            data: series.data,
            backgroundColor: color,
            borderColor: color,
            borderRadius: 3,
            maxBarThickness: BAR,
            categoryPercentage: 0.8,
            barPercentage: 0.92
          };
        })
      },
      plugins: [groupedBars, valueLabels],
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        layout: { padding: { right: 48 } },
        scales: {
          x: {
            min: 0,
            max: 100,
            ticks: { color: text, callback: function (v) { return v + " %"; }, stepSize: 25, maxRotation: 0 },
            grid: { color: grid },
            border: { color: grid },
            title: { display: true, text: spec.axis, color: text }
          },
          y: {
            ticks: {
              color: text,
              autoSkip: false,
              callback: function (value) {
                var label = this.getLabelForValue(value);
                var room = this.chart.width < 480 ? 14 : 22;  // characters before "…"
                return label.length > room ? label.slice(0, room - 1) + "…" : label;
              }
            },
            grid: { display: false },
            border: { color: grid }
          }
        },
        plugins: {
          legend: { position: "top", align: "start", labels: { color: text, boxWidth: 12, boxHeight: 12 } },
          tooltip: {
            callbacks: {
              title: function (items) { return spec.labels[items[0].dataIndex]; },
              label: function (item) {
                var series = spec.series[item.datasetIndex];
                var counts = series.counts[item.dataIndex];
                if (item.raw === null) return series.label + ": —";
                return series.label + ": " + item.raw + " % (" +
                  format(spec.of, { met: counts[0], total: counts[1] }) + ")";
              }
            }
          }
        }
      }
    };
  }

  window.Chart.defaults.font.family = cssVar("--font", window.Chart.defaults.font.family);
  var charts = [];

  function draw() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-chart-source]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chartSource);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      if (spec.type === "attainment") charts.push(new window.Chart(canvas, attainmentConfig(spec)));
    });
  }

  draw();
  var scheme = window.matchMedia("(prefers-color-scheme: dark)");
  if (scheme.addEventListener) scheme.addEventListener("change", draw);
})();

// The overview's throughput chart: uploads per minute over the last hour (uPlot).
(function () {
  const data = JSON.parse(document.getElementById("throughput").textContent);
  const target = document.getElementById("throughput-chart");
  const options = {
    width: Math.min(900, target.clientWidth || 900),
    height: 240,
    series: [{}, { label: "uploads / min", stroke: "#2a6", fill: "rgba(34,170,102,0.15)" }],
    axes: [{}, { label: "uploads" }],
  };
  new uPlot(options, [data.t, data.n], target);
})();

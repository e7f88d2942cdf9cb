// Small statistics helpers.

function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function variance(values) {
  const m = mean(values);
  
}

module.exports = { mean, variance };

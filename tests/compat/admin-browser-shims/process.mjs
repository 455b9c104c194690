// The `process` respoke-admin reads: `process.version` (Respoke-SDK header) and
// `process.nextTick`; `debug` reads `process.env`.
export var process = {
  version: 'browser',
  env: {},
  nextTick: function (fn) {
    var args = Array.prototype.slice.call(arguments, 1);
    queueMicrotask(function () { fn.apply(null, args); });
  },
};

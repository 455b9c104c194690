// Node's `events.EventEmitter`: what respoke-admin's client (an EventEmitter) calls.
'use strict';
function EventEmitter() {
  this._listeners = {};
}
EventEmitter.prototype.on = function (name, fn) {
  (this._listeners[name] = this._listeners[name] || []).push(fn);
  return this;
};
EventEmitter.prototype.addListener = EventEmitter.prototype.on;
EventEmitter.prototype.once = function (name, fn) {
  var self = this;
  function once() {
    self.removeListener(name, once);
    fn.apply(self, arguments);
  }
  once.listener = fn;
  return this.on(name, once);
};
EventEmitter.prototype.removeListener = function (name, fn) {
  var list = this._listeners[name] || [];
  this._listeners[name] = list.filter(function (l) { return l !== fn && l.listener !== fn; });
  return this;
};
EventEmitter.prototype.removeAllListeners = function (name) {
  if (name === undefined) this._listeners = {};
  else delete this._listeners[name];
  return this;
};
EventEmitter.prototype.emit = function (name) {
  var args = Array.prototype.slice.call(arguments, 1);
  var list = (this._listeners[name] || []).slice();
  if (name === 'error' && list.length === 0) throw args[0];
  for (var i = 0; i < list.length; i++) list[i].apply(this, args);
  return list.length > 0;
};
EventEmitter.EventEmitter = EventEmitter;
module.exports = EventEmitter;

// Node's `url.parse` / `url.format`, as respoke-admin's socket connect builds its URL.
'use strict';
exports.parse = function parse(text) {
  var u = new URL(text);
  return { protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, query: null };
};
exports.format = function format(parts) {
  var query = parts.query ? new URLSearchParams(parts.query).toString() : '';
  return parts.protocol + '//' + parts.host + (parts.pathname || '') + (query ? '?' + query : '');
};

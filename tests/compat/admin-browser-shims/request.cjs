// `request` (the Node HTTP client respoke-admin 1.9.0 uses) over the browser's fetch: the
// subset the SDK calls, `request({uri, method, headers, json, body}, callback)` with
// `callback(error, response, body)`, `response.statusCode`, `.headers` and `.body`.
// Header values are sent as `request` sends them: `null` becomes the text "null".
'use strict';

module.exports = function request(params, callback) {
  var headers = {};
  Object.keys(params.headers || {}).forEach(function (name) {
    var value = params.headers[name];
    if (value !== undefined) headers[name] = String(value);
  });
  var body;
  if (params.body !== undefined) {
    body = params.json ? JSON.stringify(params.body) : params.body;
    if (params.json) headers['content-type'] = 'application/json';
  }
  if (params.json) headers.accept = 'application/json';
  fetch(params.uri, { method: params.method || 'GET', headers: headers, body: body })
    .then(function (response) {
      return response.text().then(function (text) {
        var parsed = text;
        if (params.json && text) {
          try {
            parsed = JSON.parse(text);
          } catch (ignored) {
            // `request` hands back the text when it is not JSON.
          }
        }
        var responseHeaders = {};
        response.headers.forEach(function (value, name) {
          responseHeaders[name] = value;
        });
        callback(null, {
          statusCode: response.status,
          headers: responseHeaders,
          body: parsed,
          request: { href: params.uri, headers: headers },
        }, parsed);
      });
    })
    .catch(function (error) {
      callback(error);
    });
};

// Node's `os`, as far as respoke-admin reads it (for its Respoke-SDK header).
'use strict';
module.exports = {
  platform: function () { return 'browser'; },
  release: function () { return ''; },
};

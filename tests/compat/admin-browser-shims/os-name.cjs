// `os-name` (for respoke-admin's Respoke-SDK header): the browser has no OS name to give.
'use strict';
module.exports = function osName() { return 'Browser'; };

#include "api/web_assets.hpp"

namespace hookyard::api {

const std::string_view k_app_css = R"css(
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
header{display:flex;flex-wrap:wrap;align-items:center;gap:1em;padding:.6em 1em;background:#24292f;color:#fff}
header a{color:#fff;text-decoration:none}
header nav a{margin-right:1em}
.brand{font-weight:700}
.who{margin-left:auto}
main{padding:1em;max-width:1400px;margin:0 auto;overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1em}
th,td{text-align:left;padding:.35em .5em;border-bottom:1px solid #d0d7de;vertical-align:top}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.state{display:inline-block;padding:0 .5em;border-radius:1em;color:#fff;font-weight:600;font-size:12px}
.s-queued{background:#6e7781}.s-running{background:#bf8700}.s-succeeded{background:#1a7f37}
.s-failed{background:#cf222e}.s-canceled{background:#57606a}.s-superseded{background:#8c959f}
.error{color:#cf222e;white-space:pre-wrap}
.note{color:#57606a}
.inline{display:inline}
.btn,button{cursor:pointer;padding:.3em .8em;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;font:inherit}
.btn.cancel{color:#cf222e}.btn.retry,.btn.build-now{background:#1f883d;color:#fff;border-color:#1a7f37}
button.link{background:none;border:0;color:#fff;text-decoration:underline}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;background:#fff;padding:.8em}
dl.facts dd{margin:0}
ol.stages{background:#fff;padding:.6em 2em}
pre.log{background:#0d1117;color:#e6edf3;padding:.6em;overflow-x:auto;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:70vh;overflow-y:auto}
pre.log .l{white-space:pre-wrap;word-break:break-all}
pre.log .l a{display:inline-block;width:4.5em;color:#6e7681;text-decoration:none;user-select:none}
pre.log .l:target{background:#3a3000}
.b{font-weight:700}.c30,.c90{color:#8b949e}.c31,.c91{color:#ff7b72}.c32,.c92{color:#3fb950}.c33,.c93{color:#d29922}
.c34,.c94{color:#58a6ff}.c35,.c95{color:#bc8cff}.c36,.c96{color:#39c5cf}.c37,.c97{color:#f0f6fc}
.filters{display:flex;flex-wrap:wrap;gap:.5em;margin-bottom:1em}
.filters input,.filters select{padding:.3em;font:inherit}
.login{display:flex;flex-direction:column;gap:.6em;max-width:24em}
.login input{width:100%;padding:.4em;font:inherit}
@media (max-width:700px){table.builds :is(th,td):is(:nth-child(2),:nth-child(5),:nth-child(7),:nth-child(8),:nth-child(9),:nth-child(11)){display:none}header nav a{margin-right:.6em}}
)css";

const std::string_view k_app_js = R"js(
(function () {
  'use strict';
  function poll(fn, ms) {
    fn().then(function (again) { if (again !== false) setTimeout(function () { poll(fn, ms); }, ms); },
              function () { var next = Math.min(ms * 2, 30000); setTimeout(function () { poll(fn, next); }, next); });
  }
  var rows = document.getElementById('rows');
  if (rows && rows.dataset.live) {
    var url = location.pathname + location.search + (location.search ? '&' : '?') + 'fragment=rows';
    poll(function () {
      return fetch(url, {credentials: 'same-origin'}).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.text();
      }).then(function (html) { if (rows.innerHTML !== html) rows.innerHTML = html; });
    }, 2000);
  }
  var log = document.getElementById('log');
  if (log && log.dataset.live) {
    poll(function () {
      var u = '/builds/' + log.dataset.build + '/live?offset=' + log.dataset.offset + '&line=' + log.dataset.line;
      return fetch(u, {credentials: 'same-origin'}).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (j) {
        var follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        document.getElementById('head').innerHTML = j.head_html;
        document.getElementById('stages').innerHTML = j.stages_html;
        if (j.log_html) log.insertAdjacentHTML('beforeend', j.log_html);
        log.dataset.offset = j.offset;
        log.dataset.line = j.line;
        if (follow) log.scrollTop = log.scrollHeight;
        return !j.complete;
      });
    }, 1000);
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest('button.copy');
    if (b && navigator.clipboard) navigator.clipboard.writeText(b.dataset.copy);
  });
})();
)js";

}  // namespace hookyard::api

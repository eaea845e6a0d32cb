"""The review page: one HTML file that works offline (inline CSS and JS, thumbnails as data: URIs).

Shown to a village head and the PKK on a phone or a laptop, or sent as a chat attachment: the
programme to scale against its time limit, each scene with its shots and texts, every caption with
its reading speed and flags, the rules' findings, and the draft video (a file beside the page) with
scene chapters that seek it. No network, no fonts to fetch: the system's sans-serif is used.
"""

from __future__ import annotations

import base64
import html
import os
from datetime import datetime, timezone
from pathlib import Path

from kbvideo.i18n import _
from kbvideo.review.model import Review, SceneRow
from kbvideo.timecode import format_seconds

TOPIC_COLOURS = {
    "opening": "#5b6b73",
    "dashat": "#c0562b",
    "kebun_pikatu": "#2f7d32",
    "pemberdayaan": "#1f5f9e",
    "closing": "#6f3f8f",
    "other": "#7a7a7a",
}
SEVERITY_LABEL = {"error": "✗", "warning": "!", "info": "·"}


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _clock(review: Review, frames: int, decimals: int = 1) -> str:
    return format_seconds(review.seconds(frames), decimals)


CSS = """
:root{--ink:#1d2327;--muted:#5f6b72;--line:#dde3e6;--bg:#f4f6f5;--card:#fff;--accent:#0b5d3b;
--ok:#1e7a46;--warn:#b7791f;--fail:#b42318}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
header{background:var(--accent);color:#fff;padding:20px 28px 18px}
header h1{margin:0 0 2px;font-size:24px;font-weight:700}
header .place{opacity:.85}
header .length{margin-top:10px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.badge{display:inline-block;padding:3px 10px;border-radius:999px;font-weight:700;font-size:13px;letter-spacing:.02em}
.badge.pass{background:#d9f2e3;color:var(--ok)}.badge.warn{background:#fdf0d5;color:var(--warn)}.badge.fail{background:#fde2df;color:var(--fail)}
main{max-width:1180px;margin:0 auto;padding:18px 20px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 10px}
.bar{position:relative;height:46px;border-radius:8px;background:#eef1f0;overflow:hidden}
.bar .scene{position:absolute;top:0;bottom:0;border-right:2px solid #fff;color:#fff;font-size:12px;padding:4px 6px;
overflow:hidden;white-space:nowrap;text-overflow:ellipsis;cursor:pointer;border:0;text-align:left;font:inherit;font-size:12px}
.bar .scene:hover{filter:brightness(1.12)}
.bar .limit{position:absolute;top:-2px;bottom:-2px;width:3px;background:var(--fail)}
.bar .head{position:absolute;top:0;bottom:0;width:2px;background:#111;display:none}
.ruler{position:relative;height:18px;font-size:11px;color:var(--muted)}
.ruler span{position:absolute;transform:translateX(-50%)}
.legend{font-size:12px;color:var(--muted);margin-top:6px}
.player{display:grid;grid-template-columns:minmax(0,2fr) minmax(220px,1fr);gap:16px;align-items:start}
@media (max-width:760px){.player{grid-template-columns:1fr}}
video{width:100%;border-radius:8px;background:#000;aspect-ratio:16/9}
.chapters{list-style:none;margin:0;padding:0;max-height:420px;overflow:auto}
.chapters button{width:100%;display:flex;gap:8px;align-items:center;border:1px solid var(--line);background:#fff;
border-radius:8px;padding:7px 10px;margin:0 0 6px;cursor:pointer;font:inherit;text-align:left}
.chapters button:hover{border-color:var(--accent)}
.chapters button.now{background:#e6f2ec;border-color:var(--accent)}
.chapters .t{font-variant-numeric:tabular-nums;color:var(--muted);min-width:48px}
.dot{width:10px;height:10px;border-radius:50%;flex:none}
.note{background:#fdf0d5;border-radius:8px;padding:8px 12px;color:#6b4a0f}
.findings{list-style:none;padding:0;margin:0}
.findings li{padding:5px 0;border-bottom:1px solid var(--line)}
.findings li:last-child{border:0}
.sev{display:inline-block;width:22px;text-align:center;font-weight:700}
.sev.error{color:var(--fail)}.sev.warning{color:var(--warn)}.sev.info{color:var(--muted)}
.where{color:var(--muted);font-size:12px}
.scene-card h2{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.chip{font-size:12px;font-weight:600;color:#fff;border-radius:999px;padding:2px 9px}
.fn{font-size:12px;background:#eef1f0;color:var(--muted);border-radius:999px;padding:2px 8px}
.times{color:var(--muted);font-weight:400;font-size:14px;font-variant-numeric:tabular-nums}
.seek{border:1px solid var(--line);background:#fff;border-radius:999px;padding:2px 10px;cursor:pointer;font:inherit;font-size:12px}
.shots{display:flex;flex-wrap:wrap;gap:10px;padding-bottom:6px}
figure{margin:0;flex:none;width:224px}
figure img{display:block;width:224px;height:126px;object-fit:cover;border-radius:6px;background:#222}
figcaption{font-size:12px;color:var(--muted);margin-top:3px;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;margin-top:10px;font-size:14px}
th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:4px 6px}
td{border-bottom:1px solid var(--line);padding:5px 6px;vertical-align:top}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.flag{display:inline-block;font-size:11px;font-weight:700;border-radius:4px;padding:1px 5px;margin-right:3px;background:#fde2df;color:var(--fail)}
.flag.ok{background:#d9f2e3;color:var(--ok)}
.kind{font-size:12px;color:var(--muted)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px}
"""

JS = """
(function(){
  var video=document.getElementById('draft');
  var head=document.getElementById('playhead');
  var total=parseFloat(document.body.dataset.span);
  function seek(t, sceneId){
    if(video){ video.currentTime=t; var p=video.play(); if(p&&p.catch){p.catch(function(){});} video.scrollIntoView({block:'nearest'}); }
    else if(sceneId){ var el=document.getElementById('scene-'+sceneId); if(el){el.scrollIntoView();} }
  }
  document.querySelectorAll('[data-t]').forEach(function(el){
    el.addEventListener('click', function(){ seek(parseFloat(el.dataset.t), el.dataset.scene); });
  });
  if(video){
    var chapters=[].slice.call(document.querySelectorAll('.chapters button'));
    video.addEventListener('timeupdate', function(){
      var t=video.currentTime;
      chapters.forEach(function(b,i){
        var next=chapters[i+1]; var on=t>=parseFloat(b.dataset.t)-0.01&&(!next||t<parseFloat(next.dataset.t)-0.01);
        b.classList.toggle('now', on);
      });
      if(head){ head.style.display='block'; head.style.left=(100*t/total)+'%'; }
    });
  }
})();
"""


def render_page(review: Review, thumbs: dict[int, str], out_dir: Path) -> str:
    """The whole page as text; `thumbs` maps id(shot) → an image URI (data: or a file beside the page)."""
    t = review.timeline
    span = max(review.seconds(t.duration), review.limit or 0) or 1.0
    parts = ["<!DOCTYPE html>", '<html lang="id"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(_('Review: {title}').format(title=review.title))}</title>",
             f"<style>{CSS}</style></head>", f'<body data-span="{span:.3f}">']
    parts.append(_header(review))
    parts.append("<main>")
    parts.append(_timeline_bar(review, span))
    parts.append(_player(review, out_dir))
    parts.append(_findings(review))
    for scene in review.scenes:
        parts.append(_scene(review, scene, thumbs))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append("</main>")
    parts.append(f"<footer>{_e(_('made by kbvideo on {date}; works offline').format(date=stamp))}</footer>")
    parts.append(f"<script>{JS}</script></body></html>")
    return "\n".join(parts)


def _header(review: Review) -> str:
    label = {"pass": _("ready"), "warn": _("check the warnings"), "fail": _("needs changes")}[review.verdict]
    return (f"<header><h1>{_e(review.title)}</h1><div class=\"place\">{_e(review.place)}</div>"
            f"<div class=\"length\"><span class=\"badge {review.verdict}\" id=\"verdict\">{_e(label)}</span>"
            f"<span>{_e(review.length_text)}</span>"
            f"<span>· {_e(_('{count} scenes').format(count=len(review.scenes)))} · "
            f"{_e(_('rules: {name}').format(name=review.rules_name))}</span></div></header>")


def _timeline_bar(review: Review, span: float) -> str:
    blocks = []
    for scene in review.scenes:
        s = scene.span
        left = 100 * review.seconds(s.start) / span
        width = 100 * review.seconds(s.duration) / span
        colour = TOPIC_COLOURS.get(s.topic, "#7a7a7a")
        blocks.append(f'<button class="scene" style="left:{left:.3f}%;width:{width:.3f}%;background:{colour}" '
                      f'data-t="{review.seconds(s.start):.3f}" data-scene="{_e(s.id)}" '
                      f'title="{_e(s.id)} {_clock(review, s.start)}–{_clock(review, s.end)}">{_e(s.id)}</button>')
    limit = ""
    if review.limit:
        limit = (f'<div class="limit" style="left:calc({100 * review.limit / span:.3f}% - 3px)" '
                 f'title="{_e(_("limit"))}"></div>')
    ticks = []
    step = 30 if span > 90 else 10 if span > 20 else 1
    second = 0
    while second <= span + 1e-6:
        ticks.append(f'<span style="left:{100 * second / span:.3f}%">{format_seconds(second, 0)}</span>')
        second += step
    legend = _("each block is a scene, to scale; the red line is the {limit} limit").format(
        limit=format_seconds(review.limit, 0)) if review.limit else _("each block is a scene, to scale")
    return (f'<section id="timeline"><h2>{_e(_("Programme"))}</h2><div class="bar">{"".join(blocks)}{limit}'
            f'<div class="head" id="playhead"></div></div><div class="ruler">{"".join(ticks)}</div>'
            f'<div class="legend">{_e(legend)}</div></section>')


def _player(review: Review, out_dir: Path) -> str:
    if review.draft is None:
        return (f'<section id="player"><h2>{_e(_("Draft video"))}</h2><p class="note">'
                f'{_e(_("No draft yet: run kbvideo render with --draft, then make this page again."))}</p></section>')
    src = os.path.relpath(review.draft.resolve(), out_dir.resolve())
    chapters = []
    for scene in review.scenes:
        s = scene.span
        colour = TOPIC_COLOURS.get(s.topic, "#7a7a7a")
        chapters.append(f'<li><button data-t="{review.seconds(s.start):.3f}" data-scene="{_e(s.id)}">'
                        f'<span class="dot" style="background:{colour}"></span><span class="t">'
                        f'{_clock(review, s.start)}</span><span>{scene.index}. {_e(s.id)}</span></button></li>')
    note = f'<p class="note">{_e(review.draft_note)}</p>' if review.draft_note else ""
    return (f'<section id="player"><h2>{_e(_("Draft video"))}</h2>{note}<div class="player">'
            f'<video id="draft" controls preload="metadata" playsinline src="{_e(Path(src).as_posix())}"></video>'
            f'<ol class="chapters">{"".join(chapters)}</ol></div></section>')


def _findings(review: Review) -> str:
    items = []
    for problem in review.warnings:
        items.append(f'<li><span class="sev warning">!</span>{_e(problem.message)} '
                     f'<span class="where">{_e(problem.path)}:{problem.line}</span></li>')
    order = {"error": 0, "warning": 1, "info": 2}
    for finding in sorted(review.findings, key=lambda f: order.get(f.severity, 3)):
        where = f' <span class="where">{_e(finding.where)}</span>' if finding.where else ""
        items.append(f'<li><span class="sev {finding.severity}">{SEVERITY_LABEL.get(finding.severity, "·")}</span>'
                     f'{_e(finding.message)}{where}</li>')
    if not items:
        items.append(f'<li><span class="sev info">✓</span>{_e(_("no findings: every rule is met"))}</li>')
    return f'<section id="findings"><h2>{_e(_("What the rules say"))}</h2><ul class="findings">{"".join(items)}</ul></section>'


def shot_label(shot) -> str:
    if shot.kind in ("clip", "still"):
        return Path(shot.source).name
    if shot.kind == "card":
        return _("title card")
    return _("chart")


def _scene(review: Review, scene: SceneRow, thumbs: dict[int, str]) -> str:
    s = scene.span
    colour = TOPIC_COLOURS.get(s.topic, "#7a7a7a")
    functions = "".join(f'<span class="fn">{_e(f)}</span>' for f in s.functions)
    head = (f'<h2>{scene.index}. {_e(s.id)} <span class="chip" style="background:{colour}">{_e(s.topic)}</span>'
            f'<span class="times">{_clock(review, s.start)}–{_clock(review, s.end)} · '
            f'{_e(_("{seconds} s").format(seconds=f"{review.seconds(s.duration):.1f}"))}</span>'
            f'<button class="seek" data-t="{review.seconds(s.start):.3f}" data-scene="{_e(s.id)}">▶ '
            f'{_e(_("play"))}</button>{functions}</h2>')
    figures = []
    for shot in scene.shots:
        src = thumbs.get(id(shot), "")
        figures.append(f'<figure><img class="thumb" alt="{_e(shot_label(shot))}" src="{src}" width="224" height="126">'
                       f'<figcaption>{_clock(review, shot.start)} · {review.seconds(shot.duration):.1f} s · '
                       f'{_e(shot_label(shot))}</figcaption></figure>')
    rows = []
    for item in scene.texts:
        kind = _("title") if item.kind == "title" else _("lower third")
        text = _e(item.text) + (f"<br><span class=\"kind\">{_e(item.subtext)}</span>" if item.subtext else "")
        rows.append(f'<tr><td class="num">{_clock(review, item.start)}</td><td class="kind">{_e(kind)}</td>'
                    f'<td>{text}</td><td class="num">{review.seconds(item.duration):.1f} s</td><td></td><td></td></tr>')
    for row in scene.captions:
        item = row.item
        flags = "".join(f'<span class="flag">{_e(f)}</span>' for f in row.flags) or '<span class="flag ok">OK</span>'
        lines = "<br>".join(_e(line) for line in row.lines)
        rows.append(f'<tr class="caption"><td class="num">{_clock(review, item.start)}</td><td class="kind">'
                    f'{_e(_("caption"))}</td><td>{lines}</td><td class="num">{review.seconds(item.duration):.1f} s</td>'
                    f'<td class="num">{row.cps:.1f}</td><td>{flags}</td></tr>')
    table = ""
    if rows:
        table = (f'<table><thead><tr><th>{_e(_("at"))}</th><th>{_e(_("what"))}</th><th>{_e(_("text (its lines)"))}'
                 f'</th><th>{_e(_("on screen"))}</th><th>{_e(_("chars/s"))}</th><th>{_e(_("flags"))}</th></tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table>')
    return (f'<section class="scene-card" id="scene-{_e(s.id)}">{head}<div class="shots">{"".join(figures)}</div>'
            f'{table}</section>')

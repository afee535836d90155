/*
 * The memory map (templates/admin/spirits/memory_map.html): draws a spirit's memories and
 * knowledge on a <canvas> from the JSON the page embeds (memories.map.points), with no library.
 *
 * Points: [id, kind, x, y, weight, type, tier, status, text], x and y in [-1, 1], the most
 * important first. Edges: [from, to, kind]. One filled path per colour keeps 10,000 points to a
 * few milliseconds a frame; hovering finds the point under the mouse through a grid of screen
 * cells (rebuilt when the view moves), so it never scans every point.
 *
 * For tests and tools, the stage carries data-drawn-points, data-drawn-lines and data-ready, and
 * window.elephantasmMemoryMap offers positionOf(id) (CSS pixels from the canvas' corner),
 * pointAt(x, y) (the id there, or null) and drawNow() (a frame drawn at once: its milliseconds).
 */
(function () {
  "use strict";

  var ID = 0, KIND = 1, X = 2, Y = 3, WEIGHT = 4, CATEGORY = { type: 5, tier: 6, status: 7 }, TEXT = 8;
  var CELL = 16;          // px of a hit-test grid cell
  var SLOP = 3;           // px around a point that still hovers it
  var PAD = 14;           // px between the outermost point and the edge at the fitted view
  var DRAG = 4;           // px of movement that turns a click into a drag

  function start() {
    var root = document.getElementById("memory-map");
    var source = document.getElementById("memory-map-data");
    if (!root || !source) return;
    var data = JSON.parse(source.textContent);
    var stage = root.querySelector(".memory-map-stage");
    var canvas = stage.querySelector(".memory-map-canvas");
    var overlay = stage.querySelector(".memory-map-overlay");
    var tooltip = stage.querySelector(".memory-map-tooltip");
    var points = data.points, edges = data.edges, n = points.length;
    var coloring = root.dataset.coloring || "type";
    var showLines = true;
    var view = { zoom: 1, panX: 0, panY: 0 };
    var size = { width: 0, height: 0, ratio: 1 };
    var sx = new Float32Array(n), sy = new Float32Array(n), sr = new Float32Array(n);
    var grid = null, gridCols = 0, gridRows = 0;
    var hovered = -1, frame = 0;
    var indexOf = {};
    for (var i = 0; i < n; i++) {
      indexOf[points[i][ID]] = i;
      sr[i] = 2 + 6 * Math.max(0, Math.min(1, points[i][WEIGHT]));
    }

    // --- layout -------------------------------------------------------------------------------

    function resize() {
      var box = stage.getBoundingClientRect();
      size.width = Math.max(1, Math.round(box.width));
      size.height = Math.max(1, Math.round(box.height));
      size.ratio = window.devicePixelRatio || 1;
      [canvas, overlay].forEach(function (c) {
        c.width = Math.round(size.width * size.ratio);
        c.height = Math.round(size.height * size.ratio);
      });
      layout();
    }

    function layout() {
      var half = Math.max(1, Math.min(size.width, size.height) / 2 - PAD - 8);
      var cx = size.width / 2 + view.panX, cy = size.height / 2 + view.panY;
      var scale = half * view.zoom;
      for (var i = 0; i < n; i++) {
        sx[i] = cx + points[i][X] * scale;
        sy[i] = cy - points[i][Y] * scale;
      }
      grid = null; // rebuilt on the next hover
      schedule();
    }

    function buildGrid() {
      gridCols = Math.ceil(size.width / CELL);
      gridRows = Math.ceil(size.height / CELL);
      grid = new Array(gridCols * gridRows);
      for (var i = 0; i < n; i++) {
        var col = Math.floor(sx[i] / CELL), row = Math.floor(sy[i] / CELL);
        if (col < 0 || row < 0 || col >= gridCols || row >= gridRows) continue;
        var key = row * gridCols + col;
        (grid[key] || (grid[key] = [])).push(i);
      }
    }

    function pointAt(x, y) {
      if (!grid) buildGrid();
      var reach = 8 + SLOP, best = -1, bestDistance = Infinity;
      var col0 = Math.floor((x - reach) / CELL), col1 = Math.floor((x + reach) / CELL);
      var row0 = Math.floor((y - reach) / CELL), row1 = Math.floor((y + reach) / CELL);
      for (var row = Math.max(0, row0); row <= Math.min(gridRows - 1, row1); row++) {
        for (var col = Math.max(0, col0); col <= Math.min(gridCols - 1, col1); col++) {
          var cell = grid[row * gridCols + col];
          if (!cell) continue;
          for (var k = 0; k < cell.length; k++) {
            var i = cell[k], dx = sx[i] - x, dy = sy[i] - y;
            var distance = Math.sqrt(dx * dx + dy * dy);
            // Within the point (and a little slop); ties go to the more important point.
            if (distance <= sr[i] + SLOP && (distance < bestDistance - 0.5 || (Math.abs(distance - bestDistance) <= 0.5 && i < best))) {
              best = i;
              bestDistance = distance;
            }
          }
        }
      }
      return best;
    }

    // --- drawing ------------------------------------------------------------------------------

    function schedule() {
      if (!frame) frame = window.requestAnimationFrame(draw);
    }

    function colorOf(i) {
      return data.categories[coloring][points[i][CATEGORY[coloring]]].color;
    }

    function drawLines(ctx) {
      var drawn = 0;
      if (!showLines) return 0;
      ctx.lineWidth = 1.2;
      ctx.globalAlpha = 0.7;
      data.edgeKinds.forEach(function (kind, kindIndex) {
        ctx.strokeStyle = kind.color;
        ctx.fillStyle = kind.color;
        ctx.beginPath();
        var heads = [];
        for (var e = 0; e < edges.length; e++) {
          if (edges[e][2] !== kindIndex) continue;
          var a = edges[e][0], b = edges[e][1];
          ctx.moveTo(sx[a], sy[a]);
          ctx.lineTo(sx[b], sy[b]);
          if (kind.key !== "contradiction") heads.push(b, a);
          drawn++;
        }
        ctx.stroke();
        ctx.beginPath(); // arrowheads: merged into, superseded by (contradictions go both ways)
        for (var h = 0; h < heads.length; h += 2) {
          var to = heads[h], from = heads[h + 1];
          var angle = Math.atan2(sy[to] - sy[from], sx[to] - sx[from]);
          var tipX = sx[to] - Math.cos(angle) * sr[to], tipY = sy[to] - Math.sin(angle) * sr[to];
          ctx.moveTo(tipX, tipY);
          ctx.lineTo(tipX - 7 * Math.cos(angle - 0.4), tipY - 7 * Math.sin(angle - 0.4));
          ctx.lineTo(tipX - 7 * Math.cos(angle + 0.4), tipY - 7 * Math.sin(angle + 0.4));
          ctx.closePath();
        }
        ctx.fill();
      });
      ctx.globalAlpha = 1;
      return drawn;
    }

    function drawPoints(ctx) {
      // One path per colour; the least important first, so the important ones end on top.
      var paths = {}, order = [];
      for (var i = n - 1; i >= 0; i--) {
        var color = colorOf(i);
        if (!paths[color]) { paths[color] = []; order.push(color); }
        paths[color].push(i);
      }
      var drawn = 0;
      ctx.globalAlpha = 0.85;
      order.forEach(function (color) {
        ctx.fillStyle = color;
        ctx.beginPath();
        paths[color].forEach(function (i) {
          var r = sr[i];
          if (sx[i] < -r || sy[i] < -r || sx[i] > size.width + r || sy[i] > size.height + r) return;
          if (points[i][KIND] === 1) {
            ctx.rect(sx[i] - r, sy[i] - r, 2 * r, 2 * r);
          } else {
            ctx.moveTo(sx[i] + r, sy[i]);
            ctx.arc(sx[i], sy[i], r, 0, 2 * Math.PI);
          }
          drawn++;
        });
        ctx.fill();
      });
      ctx.globalAlpha = 1;
      return drawn;
    }

    function draw() {
      frame = 0;
      var ctx = canvas.getContext("2d");
      ctx.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
      ctx.clearRect(0, 0, size.width, size.height);
      var lines = drawLines(ctx);
      var drawn = drawPoints(ctx);
      stage.dataset.drawnPoints = String(drawn);
      stage.dataset.drawnLines = String(lines);
      stage.dataset.ready = "true";
      drawHover();
    }

    function drawHover() {
      var ctx = overlay.getContext("2d");
      ctx.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
      ctx.clearRect(0, 0, size.width, size.height);
      if (hovered < 0) return;
      ctx.lineWidth = 2;
      ctx.strokeStyle = getComputedStyle(stage).color || "#000";
      ctx.beginPath();
      ctx.arc(sx[hovered], sy[hovered], sr[hovered] + 3, 0, 2 * Math.PI);
      ctx.stroke();
    }

    // --- hover and click ----------------------------------------------------------------------

    function label(i) {
      var point = points[i], parts = [data.kinds[point[KIND]] === "memory" ? "Memory" : "Knowledge"];
      ["type", "tier", "status"].forEach(function (name) {
        var category = data.categories[name][point[CATEGORY[name]]];
        if (!(name === "tier" && point[KIND] === 1)) parts.push(category.label.replace(/^Knowledge: /, ""));
      });
      parts.push((point[KIND] === 1 ? "confidence " : "importance ") + point[WEIGHT].toFixed(2));
      return parts.join(" · ");
    }

    function showTooltip(i, x, y) {
      tooltip.textContent = "";
      var text = document.createElement("div");
      text.textContent = points[i][TEXT];
      var meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = label(i);
      tooltip.appendChild(text);
      tooltip.appendChild(meta);
      tooltip.hidden = false;
      var left = x + 14, top = y + 14;
      if (left + tooltip.offsetWidth > size.width) left = Math.max(0, x - 14 - tooltip.offsetWidth);
      if (top + tooltip.offsetHeight > size.height) top = Math.max(0, y - 14 - tooltip.offsetHeight);
      tooltip.style.left = left + "px";
      tooltip.style.top = top + "px";
    }

    function hover(i, x, y) {
      if (i !== hovered) {
        hovered = i;
        drawHover();
      }
      stage.classList.toggle("is-hovering", i >= 0);
      if (i >= 0) showTooltip(i, x, y); else tooltip.hidden = true;
    }

    function urlOf(i) {
      var template = data.changeUrls[data.kinds[points[i][KIND]]];
      return template ? template.replace(data.placeholder, points[i][ID]) : null;
    }

    function local(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    var press = null;
    canvas.addEventListener("mousedown", function (event) {
      var at = local(event);
      press = { x: at.x, y: at.y, panX: view.panX, panY: view.panY, moved: false };
    });
    window.addEventListener("mousemove", function (event) {
      var at = local(event);
      if (press) {
        var dx = at.x - press.x, dy = at.y - press.y;
        if (press.moved || Math.abs(dx) + Math.abs(dy) > DRAG) {
          press.moved = true;
          stage.classList.add("is-dragging");
          view.panX = press.panX + dx;
          view.panY = press.panY + dy;
          hover(-1);
          layout();
          return;
        }
      }
      if (event.target === canvas) hover(pointAt(at.x, at.y), at.x, at.y);
    });
    window.addEventListener("mouseup", function (event) {
      var wasClick = press && !press.moved && event.target === canvas;
      press = null;
      stage.classList.remove("is-dragging");
      if (!wasClick) return;
      var at = local(event), i = pointAt(at.x, at.y), url = i >= 0 ? urlOf(i) : null;
      if (url) window.location.assign(url);
    });
    canvas.addEventListener("mouseleave", function () { if (!press) hover(-1); });
    canvas.addEventListener("wheel", function (event) {
      event.preventDefault();
      var at = local(event), factor = Math.exp(-event.deltaY * 0.0015);
      var zoom = Math.max(0.5, Math.min(200, view.zoom * factor));
      factor = zoom / view.zoom;
      // Keep the point under the mouse where it is.
      var cx = size.width / 2 + view.panX, cy = size.height / 2 + view.panY;
      view.panX += (at.x - cx) * (1 - factor);
      view.panY += (at.y - cy) * (1 - factor);
      view.zoom = zoom;
      hover(-1);
      layout();
    }, { passive: false });

    // --- controls -----------------------------------------------------------------------------

    root.querySelectorAll('input[name="color"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked) return;
        coloring = radio.value;
        root.dataset.coloring = coloring;
        root.querySelectorAll("[data-legend]").forEach(function (legend) {
          legend.hidden = legend.dataset.legend !== coloring;
        });
        var url = new URL(window.location.href);
        url.searchParams.set("color", coloring);
        window.history.replaceState(null, "", url);
        schedule();
      });
    });
    var lines = root.querySelector('input[name="lines"]');
    if (lines) lines.addEventListener("change", function () { showLines = lines.checked; schedule(); });
    var reset = root.querySelector(".memory-map-reset");
    if (reset) reset.addEventListener("click", function () {
      view.zoom = 1; view.panX = 0; view.panY = 0;
      layout();
    });
    window.addEventListener("resize", resize);

    window.elephantasmMemoryMap = {
      positionOf: function (id) {
        var i = indexOf[id];
        return i === undefined ? null : { x: sx[i], y: sy[i], radius: sr[i] };
      },
      pointAt: function (x, y) {
        var i = pointAt(x, y);
        return i < 0 ? null : points[i][ID];
      },
      drawNow: function () { // draws at once; returns the milliseconds it took
        var started = performance.now();
        if (frame) { window.cancelAnimationFrame(frame); frame = 0; }
        draw();
        return performance.now() - started;
      },
    };
    resize();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

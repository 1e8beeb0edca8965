// Quality page (quality.html): task counts, accuracy per field with Wilson
// intervals, accuracy over time and a reliability diagram drawn as inline
// SVG by hand, and the ECE table.
'use strict';

(() => {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const DAY_MS = 24 * 60 * 60 * 1000;
  // Okabe-Ito colours: distinguishable with colour-blindness, dark enough on white.
  const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#882255', '#44AA99', '#999933'];
  const LEGEND_ROW = 18;

  const $ = (id) => document.getElementById(id);
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const sampleOrder = (sample) => (sample === 'AUDIT' ? 0 : 1);

  // ---------------------------------------------------------------- loading

  async function load() {
    const refresh = $('refresh');
    refresh.disabled = true;
    try {
      const result = await QC.api('GET', '/api/quality');
      if (result.ok && result.data) {
        $('quality-error').hidden = true;
        render(result.data);
      } else {
        showError(QC.errorMessage(result, 'Could not load the quality report'));
      }
    } catch (_) {
      showError('Could not load the quality report: the server could not be reached.');
    } finally {
      refresh.disabled = false;
    }
  }

  function showError(message) {
    const box = $('quality-error');
    box.textContent = message;
    box.hidden = false;
  }

  function render(data) {
    const rows = Array.isArray(data.rows) ? data.rows : [];
    const calibration = Array.isArray(data.calibration) ? data.calibration : [];
    const timeline = Array.isArray(data.timeline) ? data.timeline : [];
    const colors = colorsByAdapter([...timeline, ...calibration]);

    renderSummary(data.tasks || {});
    renderQualityTable(rows);
    renderTimeline($('timeline'), timeline, colors);
    renderReliability($('reliability'), calibration, colors);
    renderEce(calibration);
  }

  /** One colour per adapter id, shared by both charts. */
  function colorsByAdapter(items) {
    const ids = [...new Set(items.map((item) => item.adapterId))].sort();
    return new Map(ids.map((id, i) => [id, PALETTE[i % PALETTE.length]]));
  }

  // ---------------------------------------------------------------- tables

  function renderSummary(tasks) {
    const entries = [['Open', tasks.open], ['Leased', tasks.leased], ['Decided', tasks.decided]];
    $('summary').replaceChildren(...entries.flatMap(([label, value]) =>
      [QC.el('dt', {}, label), QC.el('dd', {}, isNum(value) ? value : '—')]));
  }

  function compareRows(a, b) {
    return String(a.documentType).localeCompare(String(b.documentType))
      || String(a.adapterId).localeCompare(String(b.adapterId))
      || (a.adapterVersion || 0) - (b.adapterVersion || 0)
      || (a.field === 'ALL' ? -1 : 0) - (b.field === 'ALL' ? -1 : 0)
      || String(a.field).localeCompare(String(b.field));
  }

  /** "95.0 % (83.1-99.0)". */
  function accuracyText(row) {
    if (!isNum(row.accuracy)) return '—';
    const pct = (v) => (v * 100).toFixed(1);
    const interval = isNum(row.low) && isNum(row.high) ? ` (${pct(row.low)}-${pct(row.high)})` : '';
    return `${pct(row.accuracy)} %${interval}`;
  }

  function sampleTag(sample) {
    const kind = sample === 'AUDIT' ? 'audit' : 'targeted';
    return QC.el('span', { className: `sample-tag ${kind}` }, sample);
  }

  function renderQualityTable(rows) {
    const table = $('quality-table');
    const sorted = [...rows].sort(compareRows);
    const toRow = (r) => {
      const classes = [r.sample === 'AUDIT' ? 'sample-audit' : 'sample-targeted'];
      if (r.field === 'ALL') classes.push('all-fields');
      return QC.el('tr', { className: classes.join(' '), dataset: { sample: r.sample, field: r.field } },
        QC.el('td', {}, r.documentType),
        QC.el('td', { title: `version ${r.adapterVersion}` }, r.adapterId),
        QC.el('td', {}, r.field),
        QC.el('td', {}, sampleTag(r.sample)),
        QC.el('td', { className: 'num', title: isNum(r.correct) ? `${r.correct} correct` : '' }, r.reviewed),
        QC.el('td', { className: 'accuracy' }, accuracyText(r)));
    };
    table.querySelector('tbody.audit').replaceChildren(...sorted.filter((r) => r.sample === 'AUDIT').map(toRow));
    table.querySelector('tbody.targeted').replaceChildren(...sorted.filter((r) => r.sample !== 'AUDIT').map(toRow));
    $('quality-empty').hidden = rows.length > 0;
  }

  function renderEce(calibration) {
    const sorted = [...calibration].sort((a, b) =>
      String(a.adapterId).localeCompare(String(b.adapterId)) || sampleOrder(a.sample) - sampleOrder(b.sample));
    $('ece').querySelector('tbody').replaceChildren(...sorted.map((c) => {
      const n = (c.bins || []).reduce((sum, bin) => sum + (bin.count || 0), 0);
      return QC.el('tr', { dataset: { sample: c.sample } },
        QC.el('td', {}, c.adapterId),
        QC.el('td', {}, sampleTag(c.sample)),
        QC.el('td', { className: 'num' }, isNum(c.ece) ? c.ece.toFixed(3) : '—'),
        QC.el('td', { className: 'num' }, n));
    }));
    $('ece-empty').hidden = calibration.length > 0;
  }

  // ------------------------------------------------------------ SVG helpers

  function svgEl(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A hover tooltip: SVG shows a child <title> natively. */
  function withTitle(node, text) {
    node.append(svgEl('title', {}, text));
    return node;
  }

  function emptyChart(svg, message) {
    svg.replaceChildren(svgEl('text', { x: 300, y: 150, class: 'chart-empty', 'text-anchor': 'middle' }, message));
  }

  /**
   * Frame, grid lines and tick labels. frame = {left, top, width, height};
   * xTicks / yTicks = [{at: pixel position, label}].
   */
  function drawAxes(svg, frame, xTicks, yTicks, xTitle, yTitle) {
    const bottom = frame.top + frame.height;
    const right = frame.left + frame.width;
    for (const tick of yTicks) {
      svg.append(svgEl('line', { x1: frame.left, x2: right, y1: tick.at, y2: tick.at, class: 'grid' }));
      svg.append(svgEl('text', { x: frame.left - 6, y: tick.at + 4, class: 'tick', 'text-anchor': 'end' }, tick.label));
    }
    for (const tick of xTicks) {
      svg.append(svgEl('line', { x1: tick.at, x2: tick.at, y1: bottom, y2: bottom + 4, class: 'axis' }));
      svg.append(svgEl('text', { x: tick.at, y: bottom + 17, class: 'tick', 'text-anchor': 'middle' }, tick.label));
    }
    svg.append(svgEl('line', { x1: frame.left, x2: right, y1: bottom, y2: bottom, class: 'axis' }));
    svg.append(svgEl('line', { x1: frame.left, x2: frame.left, y1: frame.top, y2: bottom, class: 'axis' }));
    svg.append(svgEl('text', { x: frame.left + frame.width / 2, y: bottom + 34, class: 'axis-title', 'text-anchor': 'middle' }, xTitle));
    const yMid = frame.top + frame.height / 2;
    svg.append(svgEl('text', { x: 12, y: yMid, class: 'axis-title', 'text-anchor': 'middle', transform: `rotate(-90 12 ${yMid})` }, yTitle));
  }

  /** entries = [{label, color, hollow, dashed}], stacked from (x, y). */
  function drawLegend(svg, entries, x, y, maxRows) {
    const shown = entries.length > maxRows ? entries.slice(0, maxRows - 1) : entries;
    shown.forEach((entry, i) => {
      const cy = y + i * LEGEND_ROW;
      svg.append(svgEl('line', {
        x1: x, x2: x + 18, y1: cy, y2: cy, stroke: entry.color, 'stroke-width': 2,
        'stroke-dasharray': entry.dashed ? '4 3' : 'none',
      }));
      svg.append(svgEl('circle', {
        cx: x + 9, cy, r: 4, stroke: entry.color, 'stroke-width': 2, fill: entry.hollow ? '#fff' : entry.color,
      }));
      svg.append(svgEl('text', { x: x + 24, y: cy + 4, class: 'legend' }, entry.label));
    });
    if (shown.length < entries.length) {
      svg.append(svgEl('text', { x: x + 24, y: y + shown.length * LEGEND_ROW + 4, class: 'legend muted' },
        `… and ${entries.length - shown.length} more`));
    }
  }

  const percentTicks = (y) => [0, 0.25, 0.5, 0.75, 1].map((v) => ({ at: y(v), label: `${v * 100} %` }));

  // -------------------------------------------------------------- timeline

  function renderTimeline(svg, timeline, colors) {
    const points = timeline.filter((p) => isNum(p.bucketStart) && isNum(p.accuracy));
    if (points.length === 0) {
      emptyChart(svg, 'No reviews over time yet');
      return;
    }
    svg.replaceChildren();
    const frame = { left: 52, top: 14, width: 360, height: 236 };
    let xMin = Math.min(...points.map((p) => p.bucketStart));
    let xMax = Math.max(...points.map((p) => p.bucketStart));
    if (xMin === xMax) { // a single bucket: centre it
      xMin -= DAY_MS / 2;
      xMax += DAY_MS / 2;
    }
    const x = (t) => frame.left + ((t - xMin) / (xMax - xMin)) * frame.width;
    const y = (a) => frame.top + (1 - a) * frame.height;

    const range = xMax - xMin;
    const format = range >= 2 * DAY_MS
      ? (t) => new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short' })
      : (t) => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    // Ticks sit on real bucket starts (at most 6 of them), so every label
    // names a bucket that exists rather than an arbitrary instant.
    const buckets = [...new Set(points.map((p) => p.bucketStart))].sort((a, b) => a - b);
    const step = Math.max(1, Math.ceil((buckets.length - 1) / 5));
    const xTicks = buckets
      .filter((_, i) => i % step === 0)
      .map((t) => ({ at: x(t), label: format(t) }));
    const dateOf = (t) => new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
    const from = dateOf(xMin);
    const to = dateOf(xMax);
    drawAxes(svg, frame, xTicks, percentTicks(y), from === to ? from : `${from} – ${to}`, 'accuracy');

    // One polyline per adapter id, in time order.
    const byAdapter = new Map();
    for (const p of points) {
      if (!byAdapter.has(p.adapterId)) byAdapter.set(p.adapterId, []);
      byAdapter.get(p.adapterId).push(p);
    }
    const legend = [];
    for (const [adapterId, series] of [...byAdapter].sort((a, b) => String(a[0]).localeCompare(String(b[0])))) {
      const color = colors.get(adapterId);
      series.sort((a, b) => a.bucketStart - b.bucketStart);
      svg.append(svgEl('polyline', {
        points: series.map((p) => `${x(p.bucketStart)},${y(p.accuracy)}`).join(' '),
        fill: 'none', stroke: color, 'stroke-width': 2,
      }));
      for (const p of series) {
        svg.append(withTitle(svgEl('circle', { cx: x(p.bucketStart), cy: y(p.accuracy), r: 3.5, fill: color }),
          `${adapterId}, ${new Date(p.bucketStart).toLocaleString()}: ${QC.formatPercent(p.accuracy, 1)} of ${p.reviewed}`));
      }
      legend.push({ label: adapterId, color });
    }
    drawLegend(svg, legend, frame.left + frame.width + 20, frame.top + 6, Math.floor(frame.height / LEGEND_ROW));
  }

  // ----------------------------------------------------------- reliability

  function renderReliability(svg, calibration, colors) {
    const series = calibration
      .map((c) => ({
        adapterId: c.adapterId,
        sample: c.sample,
        bins: (c.bins || [])
          .filter((b) => b.count > 0 && isNum(b.meanConfidence) && isNum(b.accuracy))
          .sort((a, b) => a.meanConfidence - b.meanConfidence),
      }))
      .filter((s) => s.bins.length > 0)
      .sort((a, b) => String(a.adapterId).localeCompare(String(b.adapterId)) || sampleOrder(a.sample) - sampleOrder(b.sample));
    if (series.length === 0) {
      emptyChart(svg, 'No calibration data yet');
      return;
    }
    svg.replaceChildren();
    const frame = { left: 52, top: 14, width: 236, height: 236 }; // square: the diagonal is at 45°
    const x = (c) => frame.left + c * frame.width;
    const y = (a) => frame.top + (1 - a) * frame.height;
    const xTicks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ at: x(v), label: `${v * 100} %` }));
    drawAxes(svg, frame, xTicks, percentTicks(y), 'mean confidence', 'observed accuracy');

    // Perfect calibration: accuracy equals confidence.
    svg.append(svgEl('line', { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: 'diagonal' }));

    // Point area grows with the number of reviews in the bin.
    const maxCount = Math.max(...series.flatMap((s) => s.bins.map((b) => b.count)));
    const radius = (count) => 2.5 + 7.5 * Math.sqrt(count / maxCount);

    const legend = [];
    for (const s of series) {
      const color = colors.get(s.adapterId);
      const hollow = s.sample !== 'AUDIT'; // targeted: hollow markers, dashed line
      svg.append(svgEl('polyline', {
        points: s.bins.map((b) => `${x(b.meanConfidence)},${y(b.accuracy)}`).join(' '),
        fill: 'none', stroke: color, 'stroke-width': 1.5, 'stroke-dasharray': hollow ? '4 3' : 'none',
      }));
      for (const b of s.bins) {
        svg.append(withTitle(svgEl('circle', {
          cx: x(b.meanConfidence), cy: y(b.accuracy), r: radius(b.count),
          fill: hollow ? '#fff' : color, 'fill-opacity': hollow ? 1 : 0.75, stroke: color, 'stroke-width': 1.5,
        }), `${s.adapterId} ${s.sample}, confidence ${b.lo}–${b.hi}: ${b.count} reviewed, `
          + `mean confidence ${QC.formatPercent(b.meanConfidence, 1)}, accuracy ${QC.formatPercent(b.accuracy, 1)}`));
      }
      legend.push({ label: `${s.adapterId} · ${s.sample}`, color, hollow, dashed: hollow });
    }
    svg.append(svgEl('line', { x1: frame.left + frame.width + 24, x2: frame.left + frame.width + 42, y1: frame.top + 6, y2: frame.top + 6, class: 'diagonal' }));
    svg.append(svgEl('text', { x: frame.left + frame.width + 48, y: frame.top + 10, class: 'legend' }, 'perfect calibration'));
    drawLegend(svg, legend, frame.left + frame.width + 24, frame.top + 6 + LEGEND_ROW, Math.floor(frame.height / LEGEND_ROW) - 1);
  }

  $('refresh').addEventListener('click', load);
  QC.initHeader();
  load();
})();

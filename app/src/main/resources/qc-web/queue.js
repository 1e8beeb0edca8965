// Queue list (index.html): one row per document type, keyboard selection,
// Enter or click opens the review page for that type. Refreshes every 5 s.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  const tbody = document.querySelector('#queues tbody');
  const empty = document.getElementById('empty');
  const errorBox = document.getElementById('queue-error');
  const updated = document.getElementById('updated');

  let queues = [];
  // The selection is remembered by document type, not by row index, so that
  // a refresh that reorders or adds rows does not move it to another queue.
  let selectedType = null;
  let refreshing = false;

  function openQueue(type) {
    location.assign(`/task.html?type=${encodeURIComponent(type)}`);
  }

  function rows() {
    return Array.from(tbody.querySelectorAll('tr[data-type]'));
  }

  function select(index) {
    const all = rows();
    if (all.length === 0) {
      selectedType = null;
      return;
    }
    const clamped = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((row, i) => {
      row.classList.toggle('selected', i === clamped);
      row.setAttribute('aria-selected', String(i === clamped));
    });
    selectedType = all[clamped].dataset.type;
    all[clamped].scrollIntoView({ block: 'nearest' });
  }

  function selectedIndex() {
    return rows().findIndex((row) => row.dataset.type === selectedType);
  }

  function render() {
    const previous = selectedIndex();
    tbody.replaceChildren(...queues.map((q) => {
      const row = QC.el('tr', { dataset: { type: q.documentType } },
        QC.el('td', { className: 'type' }, q.documentType),
        QC.el('td', { className: 'num' }, q.open ?? 0),
        QC.el('td', { className: 'num' }, q.leased ?? 0),
        QC.el('td', { className: 'num' }, QC.formatAge(q.oldestAgeSeconds)),
        QC.el('td', { className: 'num' }, QC.formatPercent(q.lowestConfidence)));
      if (!q.open) row.classList.add('drained');
      return row;
    }));
    const totalOpen = queues.reduce((sum, q) => sum + (q.open || 0), 0);
    empty.hidden = totalOpen > 0;

    // Keep the same queue selected; if it vanished, stay near its old place.
    const index = selectedIndex();
    select(index >= 0 ? index : Math.max(previous, 0));
  }

  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const result = await QC.api('GET', '/api/queues');
      if (result.ok && result.data) {
        queues = Array.isArray(result.data.queues) ? result.data.queues : [];
        render();
        errorBox.hidden = true;
        updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } else {
        showError(QC.errorMessage(result, 'Could not load the queues'));
      }
    } catch (_) {
      showError('Could not load the queues: the server could not be reached. Retrying…');
    } finally {
      refreshing = false;
    }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  tbody.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-type]');
    if (row) openQueue(row.dataset.type);
  });

  document.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    // Let Enter activate a focused link or button (e.g. Sign out) natively.
    const onControl = event.target.closest && event.target.closest('a, button, input, textarea, select');
    switch (event.key) {
      case 'ArrowDown':
      case 'j':
        event.preventDefault();
        select(selectedIndex() + 1);
        break;
      case 'ArrowUp':
      case 'k':
        event.preventDefault();
        select(selectedIndex() - 1);
        break;
      case 'Enter':
        if (onControl || !selectedType) return;
        event.preventDefault();
        openQueue(selectedType);
        break;
      default:
        break;
    }
  });

  QC.initHeader();
  refresh();
  setInterval(() => {
    if (!document.hidden) refresh(); // no polling in a background tab
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh(); // catch up at once when the tab is shown again
  });
})();

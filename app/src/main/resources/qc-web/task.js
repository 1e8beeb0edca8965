// Review page (task.html?type=X): leases the next task of a queue, shows
// the document image beside the extracted fields, and sends the verdict.
// Keyboard-first; see the #keys legend in task.html for the bindings.
'use strict';

(() => {
  const NEXT_TASK_DELAY_MS = 600; // long enough to read the confirmation
  const LEASE_WARNING_MS = 60 * 1000;

  const FIELD_LABELS = {
    SURNAME: 'Surname',
    GIVEN_NAMES: 'Given names',
    DATE_OF_BIRTH: 'Date of birth',
    DOCUMENT_NUMBER: 'Document number',
    EXPIRY_DATE: 'Expiry date',
    NATIONALITY: 'Nationality',
    SEX: 'Sex',
  };

  const $ = (id) => document.getElementById(id);
  const documentType = new URLSearchParams(location.search).get('type');

  // Remembers which job this tab holds a lease on, so a page reload resumes
  // it (GET /api/tasks/{jobId}) instead of leasing another task and leaving
  // the first one stranded until its lease expires. Only the job id is kept
  // (sessionStorage: this tab only), never any field value.
  const leaseKey = `qc.lease.${documentType}`;

  /**
   * Page state; decides which keys do what.
   *   loading - asking for a task        busy  - verdict/skip in flight
   *   task    - a task is shown          done  - verdict accepted, next task soon
   *   none    - the queue is empty       error - lease lost or load failed
   */
  let state = 'loading';
  let task = null;
  let fieldRows = []; // [{field, input, original, wasNote}] in display order
  let serverOffsetMs = 0;
  let leaseTimer = null;
  let nextTimer = null;
  let statusKind = '';

  // ---------------------------------------------------------------- status

  /** kind: 'ok' | 'info' | 'error'. */
  function setStatus(text, kind = 'info') {
    const status = $('status');
    status.textContent = text;
    status.className = kind ? `status-${kind}` : '';
    statusKind = kind;
  }

  function setState(next) {
    state = next;
    // Inputs and buttons only work while a task is shown: this is what makes
    // the submit idempotent on the client (no second click while in flight).
    const interactive = state === 'task';
    for (const { input } of fieldRows) input.readOnly = !interactive;
    for (const id of ['submit', 'unreadable', 'skip']) $(id).disabled = !interactive;
    $('back').disabled = state === 'busy' || state === 'loading';
    document.body.dataset.state = state;
  }

  // ------------------------------------------------------------ navigation

  function backToQueues() {
    clearTimeout(nextTimer);
    location.assign('/index.html');
  }

  function forgetLease() {
    sessionStorage.removeItem(leaseKey);
  }

  // --------------------------------------------------------- loading tasks

  async function start() {
    if (!documentType) {
      location.replace('/index.html');
      return;
    }
    setState('loading');
    $('queue-name').textContent = documentType;
    document.title = `${documentType} · DocStream QC`;
    QC.initHeader();
    if (!(await resumeLeasedTask())) await loadNext();
  }

  /** Shows the task this tab already holds, if its lease is still ours. */
  async function resumeLeasedTask() {
    const jobId = sessionStorage.getItem(leaseKey);
    if (!jobId) return false;
    try {
      const result = await QC.api('GET', `/api/tasks/${encodeURIComponent(jobId)}`);
      if (result.status === 200 && result.data && result.data.documentType === documentType) {
        showTask(result.data, result.serverOffsetMs);
        return true;
      }
    } catch (_) {
      // fall through: just ask for the next task
    }
    forgetLease();
    return false;
  }

  async function loadNext() {
    clearTimeout(nextTimer);
    stopLeaseCountdown();
    setState('loading');
    $('recover').hidden = true;
    let result;
    try {
      result = await QC.api('POST', `/api/queues/${encodeURIComponent(documentType)}/next`);
    } catch (_) {
      hideTask();
      showProblem('Could not load the next task: the server could not be reached.');
      return;
    }
    if (result.status === 204) {
      showNoTask();
    } else if (result.status === 200 && result.data) {
      showTask(result.data, result.serverOffsetMs);
    } else {
      hideTask();
      showProblem(QC.errorMessage(result, 'Could not load the next task'));
    }
  }

  function hideTask() {
    stopLeaseCountdown();
    task = null;
    fieldRows = [];
    $('task').hidden = true;
  }

  function showNoTask() {
    hideTask();
    $('no-task').hidden = false;
    $('no-task-back').focus();
    setState('none');
  }

  /** Lease lost, load failure…: say so and offer Next (Enter) / Back (Esc). */
  function showProblem(message) {
    stopLeaseCountdown();
    const sentence = /[.!?]$/.test(message) ? message : `${message}.`;
    setStatus(`${sentence} Press Enter for the next task or Esc to go back.`, 'error');
    $('recover').hidden = false;
    setState('error');
  }

  // ------------------------------------------------------------ rendering

  function showTask(data, offsetMs) {
    task = data;
    serverOffsetMs = offsetMs || 0;
    sessionStorage.setItem(leaseKey, task.jobId);

    $('no-task').hidden = true;
    $('recover').hidden = true;
    $('task').hidden = false;
    // Keep a success confirmation ("Submitted …") visible across the switch
    // to the next task; clear errors and progress messages.
    if (statusKind !== 'ok') setStatus('', '');

    $('job-id').textContent = task.jobId;
    $('adapter').textContent = task.adapterId
      || `${task.documentType}@${task.adapterVersion}`;
    renderReasons(task.reasons || []);
    renderImage(task.imageUrl);
    renderFields(task.fields || []);
    startLeaseCountdown();
    setState('task');
    focusFirstField();
  }

  function renderReasons(reasons) {
    $('reasons').replaceChildren(...reasons.map((reason) =>
      QC.el('span', { className: 'chip', title: reason }, humanize(reason))));
  }

  function humanize(code) {
    const words = String(code).toLowerCase().replace(/_/g, ' ');
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function renderImage(url) {
    const img = $('document-image');
    const noImage = $('no-image');
    $('image-pane').classList.remove('zoomed');
    if (url) {
      img.onerror = () => {
        img.hidden = true;
        noImage.textContent = 'Image could not be loaded';
        noImage.hidden = false;
      };
      img.hidden = false;
      noImage.hidden = true;
      img.src = url;
    } else {
      img.onerror = null;
      img.removeAttribute('src');
      img.hidden = true;
      noImage.textContent = 'Image expired';
      noImage.hidden = false;
    }
  }

  function renderFields(fields) {
    const form = $('fields');
    fieldRows = [];
    form.replaceChildren(...fields.map((f, index) => {
      const original = f.value ?? '';
      const inputId = `field-${index}`;
      const input = QC.el('input', {
        type: 'text',
        id: inputId,
        className: f.low ? 'low' : '',
        value: original,
        spellcheck: false,
        autocomplete: 'off',
        dataset: { field: f.field },
      });
      input.setAttribute('autocapitalize', 'characters');
      const wasNote = QC.el('span', { className: 'was', hidden: true }, 'was: ', QC.el('span', {}, original || '(empty)'));
      const row = { field: f.field, input, original, wasNote };
      fieldRows.push(row);
      // 'change' too: some automation (e.g. WebDriver clear()) fires only that.
      // The verdict itself is built from the values at submit time anyway.
      input.addEventListener('input', () => markChanged(row));
      input.addEventListener('change', () => markChanged(row));

      const label = QC.el('label', { htmlFor: inputId },
        FIELD_LABELS[f.field] || humanize(f.field),
        f.low ? QC.el('span', { className: 'low-badge' }, 'LOW') : null);
      return QC.el('div', { className: f.low ? 'field-row low-row' : 'field-row' },
        label,
        QC.el('div', { className: 'field-input' }, input, wasNote),
        confidenceCell(f.confidence, f.low));
    }));
    updateSubmitLabel();
  }

  function confidenceCell(confidence, low) {
    const known = typeof confidence === 'number' && Number.isFinite(confidence);
    const width = known ? Math.max(0, Math.min(1, confidence)) * 100 : 0;
    return QC.el('div', { className: low ? 'confidence low' : 'confidence', title: 'Extraction confidence' },
      QC.el('span', { className: 'pct' }, QC.formatPercent(confidence)),
      QC.el('span', { className: 'bar' }, QC.el('span', { className: 'fill', style: `width: ${width}%` })));
  }

  /**
   * A field counts as changed when its trimmed value differs from what was
   * extracted: a stray trailing space is not a correction.
   */
  function isChanged(row) {
    return row.input.value.trim() !== row.original;
  }

  function markChanged(row) {
    const changed = isChanged(row);
    row.input.classList.toggle('changed', changed);
    row.wasNote.hidden = !changed;
    updateSubmitLabel();
  }

  function corrections() {
    return fieldRows.filter(isChanged).map((row) => ({ field: row.field, value: row.input.value.trim() }));
  }

  function updateSubmitLabel() {
    const count = corrections().length;
    const button = $('submit');
    button.firstChild.textContent = count === 0
      ? 'Accept all '
      : `Submit ${count} correction${count === 1 ? '' : 's'} `;
  }

  function focusFirstField() {
    const target = fieldRows.find((row) => row.input.classList.contains('low')) || fieldRows[0];
    if (target) {
      target.input.focus();
      target.input.select(); // like Tab: typing replaces the value
    }
  }

  function moveFocus(fromInput, delta) {
    const index = fieldRows.findIndex((row) => row.input === fromInput);
    const next = fieldRows[index + delta];
    if (next) {
      next.input.focus();
      next.input.select();
    }
  }

  function toggleZoom() {
    if (task && task.imageUrl) $('image-pane').classList.toggle('zoomed');
  }

  // ----------------------------------------------------------------- lease

  function startLeaseCountdown() {
    stopLeaseCountdown();
    const lease = $('lease');
    lease.className = 'lease';
    if (typeof task.leaseExpiresAt !== 'number') {
      lease.textContent = '';
      return;
    }
    tickLease();
    leaseTimer = setInterval(tickLease, 1000);
  }

  function stopLeaseCountdown() {
    clearInterval(leaseTimer);
    leaseTimer = null;
  }

  function tickLease() {
    const lease = $('lease');
    const remaining = task.leaseExpiresAt - (Date.now() + serverOffsetMs);
    if (remaining <= 0) {
      stopLeaseCountdown();
      lease.textContent = 'Lease lost (expired)';
      lease.className = 'lease expired';
      if (state === 'task') {
        // The server decides: if nobody else took the task, a verdict may
        // still be accepted, so the form stays usable; a 409 says otherwise.
        setStatus('The lease expired: this task may now go to another analyst. Submitting may fail.', 'error');
      }
      return;
    }
    const totalSeconds = Math.ceil(remaining / 1000);
    const minutes = Math.floor(totalSeconds / 60);
    const seconds = String(totalSeconds % 60).padStart(2, '0');
    lease.textContent = `Lease ${minutes}:${seconds} left`;
    lease.className = remaining < LEASE_WARNING_MS ? 'lease warning' : 'lease';
  }

  // --------------------------------------------------------------- actions

  /** kind: 'SUBMIT' (CORRECT or CORRECTED, from the edits) or 'UNREADABLE'. */
  async function sendVerdict(kind) {
    if (state !== 'task') return; // ignores repeats while one is in flight
    const changes = kind === 'UNREADABLE' ? [] : corrections();
    const verdict = kind === 'UNREADABLE' ? 'UNREADABLE' : (changes.length ? 'CORRECTED' : 'CORRECT');
    const jobId = task.jobId;
    setState('busy');
    setStatus(`Submitting ${verdict}…`, 'info');

    let result;
    try {
      result = await QC.api('POST', `/api/tasks/${encodeURIComponent(jobId)}/verdict`,
        { verdict, corrections: changes });
    } catch (_) {
      // The verdict may or may not have arrived; resending is safe because
      // the server reports a repeat as a duplicate.
      setState('task');
      setStatus('Network error: the verdict may not have been recorded. Try again.', 'error');
      return;
    }

    if (result.status === 200) {
      forgetLease();
      stopLeaseCountdown();
      const recorded = (result.data && result.data.verdict) || verdict;
      const duplicate = result.data && result.data.duplicate ? ' (already recorded)' : '';
      setStatus(`Submitted ${recorded} for ${jobId}${duplicate}`, 'ok');
      setState('done');
      nextTimer = setTimeout(loadNext, NEXT_TASK_DELAY_MS);
    } else if (result.status === 409) {
      forgetLease();
      showProblem(QC.errorMessage(result, 'Not recorded, the lease was lost'));
    } else {
      setState('task');
      setStatus(QC.errorMessage(result, 'The verdict was not recorded'), 'error');
    }
  }

  /** Releases the lease; then the next task, or the queue list. */
  async function skip({ thenBack }) {
    if (state !== 'task') return;
    const jobId = task.jobId;
    setState('busy');
    setStatus(`Skipping ${jobId}…`, 'info');
    let result = null;
    try {
      result = await QC.api('POST', `/api/tasks/${encodeURIComponent(jobId)}/skip`);
    } catch (_) {
      // Going back anyway is fine: an unreleased lease simply expires.
    }
    if (result && (result.ok || result.status === 409 || result.status === 404)) forgetLease();
    if (thenBack) {
      backToQueues();
    } else if (result && result.ok) {
      setStatus(`Skipped ${jobId}`, 'info');
      loadNext();
    } else if (result && result.status === 409) {
      showProblem(QC.errorMessage(result, 'Skip failed, the lease was lost'));
    } else {
      setState('task');
      setStatus(result ? QC.errorMessage(result, 'Skip failed') : 'Skip failed: the server could not be reached.', 'error');
    }
  }

  function escape() {
    if (state === 'task') skip({ thenBack: true });
    else if (state === 'none' || state === 'error' || state === 'done') backToQueues();
    // loading / busy: a request is in flight; leaving now could strand a lease.
  }

  // ------------------------------------------------------------- keyboard

  function isLetter(event, letter) {
    // e.code as a fallback: on macOS Alt+letter yields another character.
    return (event.key || '').toLowerCase() === letter || event.code === `Key${letter.toUpperCase()}`;
  }

  function onKeyDown(event) {
    if (event.isComposing) return;
    const inField = fieldRows.some((row) => row.input === event.target);
    const onButton = event.target instanceof HTMLButtonElement || event.target instanceof HTMLAnchorElement;

    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (!event.repeat) sendVerdict('SUBMIT');
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      if (isLetter(event, 'u')) {
        event.preventDefault();
        if (!event.repeat) sendVerdict('UNREADABLE');
      } else if (isLetter(event, 's')) {
        event.preventDefault();
        if (!event.repeat) skip({ thenBack: false });
      } else if (isLetter(event, 'z')) {
        event.preventDefault();
        toggleZoom();
      }
      return;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      if (!event.repeat) escape();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;

    if (inField && state === 'task') {
      if (event.key === 'ArrowDown' || event.key === 'Enter') {
        event.preventDefault(); // plain Enter moves on; it never submits
        moveFocus(event.target, +1);
      } else if (event.key === 'ArrowUp') {
        event.preventDefault();
        moveFocus(event.target, -1);
      }
      return;
    }
    // Enter on a focused button is left to the button itself.
    if (event.key === 'Enter' && !onButton && !event.repeat) {
      if (state === 'none') backToQueues();
      else if (state === 'error') loadNext();
    }
  }

  document.addEventListener('keydown', onKeyDown);

  // The form is only a container: implicit submission must never send it.
  $('fields').addEventListener('submit', (event) => event.preventDefault());

  // Mouse equivalents of the keys.
  $('submit').addEventListener('click', () => sendVerdict('SUBMIT'));
  $('unreadable').addEventListener('click', () => sendVerdict('UNREADABLE'));
  $('skip').addEventListener('click', () => skip({ thenBack: false }));
  $('back').addEventListener('click', escape);
  $('no-task-back').addEventListener('click', backToQueues);
  $('recover-next').addEventListener('click', loadNext);
  $('recover-back').addEventListener('click', backToQueues);
  $('document-image').addEventListener('click', toggleZoom);

  start();
})();

// User import jobs: upload a CSV (to the job's PreSignedUrl), start it, watch its progress bar,
// and read the failed rows by line number.
import { call, view } from '../api.js';
import { clear, facts, h, link, table, time } from '../dom.js';
import { form, input, valueOf } from '../forms.js';
import { act, breadcrumbs, heading, notice, poolNav, section } from '../ui.js';
import { go, type Page } from '../main.js';
import { poolHref } from './pools.js';

const jobHref = (poolId: string, jobId: string) => poolHref(poolId, `/imports/${encodeURIComponent(jobId)}`);
const FINAL = new Set(['Succeeded', 'Failed', 'Stopped', 'Expired']);
// Cognito requires a CloudWatch role; Gatehouse writes the job's log to its own log and ignores it.
const LOG_ROLE = 'arn:aws:iam::000000000000:role/gatehouse-console-import';

export const importsPage: Page = async (main, [poolId]) => {
  const [{ UserPool: pool }, jobs, header] = await Promise.all([
    call('DescribeUserPool', { UserPoolId: poolId }), call('ListUserImportJobs', { UserPoolId: poolId, MaxResults: 60 }), call('GetCSVHeader', { UserPoolId: poolId }),
  ]);
  const fileId = 'import-file';
  const fileError = h('p', { class: 'field-error', id: 'import-file-error', hidden: true });
  const newJob = form({
    label: 'Import users', submit: 'Upload and start',
    fields: [
      input({ label: 'Job name', path: 'jobName', required: true }),
      h('div', { class: 'field', 'data-path': 'file' },
        h('div', { class: 'label-row' }, h('label', { for: fileId }, 'CSV file'), h('span', { class: 'req', 'aria-hidden': 'true' }, '(required)')),
        h('input', { id: fileId, type: 'file', name: 'file', accept: '.csv,text/csv', 'aria-describedby': 'import-file-error' }), fileError),
    ],
    onsubmit: async (f) => {
      const file = (f.elements.namedItem('file') as HTMLInputElement).files?.[0];
      if (!file) {
        fileError.textContent = 'Choose a CSV file.';
        fileError.hidden = false;
        (f.elements.namedItem('file') as HTMLElement).focus();
        return;
      }
      const { UserImportJob: job } = await call('CreateUserImportJob', { UserPoolId: poolId, JobName: valueOf(f, 'jobName'), CloudWatchLogsRoleArn: LOG_ROLE });
      // The PreSignedUrl names this server by its public URL; the console uploads to the same path on
      // the origin it was loaded from (the CSP allows no other).
      const url = new URL(job.PreSignedUrl);
      const res = await fetch(url.pathname + url.search, { method: 'PUT', body: file, headers: { 'content-type': 'text/csv' } });
      if (!res.ok) throw new Error(`The upload was refused: ${(await res.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()}`);
      await call('StartUserImportJob', { UserPoolId: poolId, JobId: job.JobId });
      go(jobHref(poolId, job.JobId));
    },
  });
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Import jobs', undefined]),
    heading(`Import jobs of ${pool.Name}`),
    poolNav(poolId, 'imports'),
    table('Import jobs', ['Job', 'Status', 'Imported', 'Skipped', 'Failed', 'Created'], jobs.UserImportJobs.slice().reverse().map((j: any) => [
      link(jobHref(poolId, j.JobId), j.JobName), j.Status, j.ImportedUsers ?? 0, j.SkippedUsers ?? 0, j.FailedUsers ?? 0, time(j.CreationDate),
    ]), { captionHidden: true }),
    section('Import users from a CSV file',
      h('p', null, 'The file’s first line names the columns; these are the pool’s: '),
      h('pre', { class: 'csv-header', tabindex: 0, 'aria-label': 'CSV header' }, header.CSVHeader.join(',')),
      newJob));
};

export const importJobPage: Page = async (main, [poolId, jobId], _q, life) => {
  const { UserPool: pool } = await call('DescribeUserPool', { UserPoolId: poolId });
  const bar = h('progress', { id: 'import-progress', max: 1, value: 0, 'aria-labelledby': 'import-progress-label' });
  const label = h('p', { id: 'import-progress-label' }, 'Starting…');
  const details = h('div');
  const failures = h('div');
  const result = h('div');
  const stop = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Stop job');
  stop.addEventListener('click', () => void act(stop, result, 'The job stops after its current batch.', () => call('StopUserImportJob', { UserPoolId: poolId, JobId: jobId })));
  let announced = '';

  const refresh = async () => {
    const [{ UserImportJob: job }, progress] = await Promise.all([
      call('DescribeUserImportJob', { UserPoolId: poolId, JobId: jobId }), view(`import-jobs/${encodeURIComponent(jobId)}`, { pool: poolId }),
    ]);
    const total = Math.max(progress.records, 1);
    bar.max = total;
    bar.value = Math.min(progress.done, total);
    const pct = Math.round((100 * progress.done) / total);
    label.textContent = `${job.Status}: ${progress.done} of ${progress.records} rows (${pct} %)`;
    stop.hidden = !['Pending', 'InProgress'].includes(job.Status);
    details.replaceChildren(facts([
      ['Status', job.Status], ['Imported', String(job.ImportedUsers ?? 0)], ['Skipped (already there)', String(job.SkippedUsers ?? 0)],
      ['Failed', String(job.FailedUsers ?? 0)], ['Started', time(job.StartDate)], ['Completed', time(job.CompletionDate)],
      ['Message', job.CompletionMessage ?? ''],
    ]));
    clear(failures, progress.failures.length
      ? table('Failed rows', ['Line', 'Reason'], progress.failures.map((x: any) => [String(x.line), x.reason]))
      : h('p', { class: 'muted' }, 'No failed rows.'),
    progress.failed > progress.failures.length ? h('p', { class: 'muted' }, `The first ${progress.failures.length} of ${progress.failed} failed rows are shown; the server's log has every one.`) : null);
    // Announced when the job ends, not at every tick.
    if (FINAL.has(job.Status) && announced !== job.Status) {
      announced = job.Status;
      const s = document.getElementById('status');
      if (s) s.textContent = `The import job has ended. ${label.textContent}`;
    }
    return FINAL.has(job.Status);
  };
  const finished = await refresh();
  if (!finished) {
    const timer = setInterval(() => {
      refresh().then((end) => { if (end) clearInterval(timer); }).catch(() => clearInterval(timer));
    }, 1000);
    life.onLeave(() => clearInterval(timer));
  }
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Import jobs', poolHref(poolId, '/imports')], [jobId, undefined]),
    heading(`Import job ${jobId}`),
    poolNav(poolId, 'imports'),
    section('Progress', label, bar, h('div', { class: 'actions' }, stop), result),
    details,
    section('Failed rows', failures),
    notice(h('span', null, 'Imported users must set a password: they sign in through ', h('em', null, 'forgot password'), ' with a code sent to their verified email or phone.'), 'info'));
};

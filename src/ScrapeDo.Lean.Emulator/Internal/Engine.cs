using System.Collections.Concurrent;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Jobs, accounts and the scheduler. Each account runs at most its plan's <c>TotalConcurrency</c> tasks at once;
/// tasks wait in one FIFO queue per account. Task phases move under the account's lock: queuing → queued → pending
/// (→ rotating → pending) → success | error, or canceled by a cancel.
/// </summary>
internal sealed class Engine
{
    private readonly EmulatorOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, AccountState> _accounts;
    private readonly ConcurrentDictionary<string, JobState> _jobs = new(StringComparer.Ordinal);

    public Engine(EmulatorOptions options, EmulatorCounters counters, WebhookDispatcher webhooks)
    {
        _options = options;
        _time = options.TimeProvider;
        Counters = counters;
        Webhooks = webhooks;
        Content = new ContentGenerator(options);
        _accounts = options.Accounts.ToDictionary(a => a.Token, a => new AccountState(a), StringComparer.Ordinal);
    }

    public EmulatorCounters Counters { get; }

    public ContentGenerator Content { get; }

    public WebhookDispatcher Webhooks { get; }

    public DateTimeOffset Now => _time.GetUtcNow();

    public AccountState? Account(string? token) => token is not null && _accounts.TryGetValue(token, out AccountState? a) ? a : null;

    public JobState? FindJob(AccountState account, string jobId) =>
        _jobs.TryGetValue(jobId, out JobState? job) && ReferenceEquals(job.Account, account) ? job : null;

    public bool IsForeign(string jobId) => _jobs.TryGetValue(jobId, out JobState? job) && job.Foreign;

    public int TaskFetchCount(string jobId, string taskId) =>
        _jobs.TryGetValue(jobId, out JobState? job) && job.TasksById.TryGetValue(taskId, out TaskState? t) ? t.Fetches : 0;

    public int MaxFetchesOfAnyTask => _jobs.Values.SelectMany(j => j.Tasks).Select(t => t.Fetches).DefaultIfEmpty(0).Max();

    /// <summary>Creates a job; the caller answers the create before calling <see cref="Enqueue"/>. A
    /// <paramref name="foreign"/> job is another client's and is counted apart from the API's creates;
    /// <paramref name="shape"/> sees the job before anyone else can (to inject its faults).</summary>
    public JobState? Create(AccountState account, JobRequest request, out string? error, bool foreign = false, Action<JobState>? shape = null)
    {
        long cost = (long)request.TaskCount * request.CostPerTask;
        DateTimeOffset now = Now;
        var job = new JobState(account, Guid.NewGuid().ToString(), now, now + _options.Retention, request) { Foreign = foreign };
        var tasks = new TaskState[request.TaskCount];
        for (int i = 0; i < tasks.Length; i++)
        {
            string url = request.PluginKey is null ? request.Targets[i] : ContentGenerator.PluginUrl(request.PluginKey, request.PluginParams[i]);
            var task = new TaskState(job, Guid.NewGuid().ToString(), url, i, request.PluginKey is null ? null : request.PluginParams[i]) { UpdateTime = now };
            tasks[i] = task;
            job.TasksById[task.TaskId] = task;
        }

        job.Tasks = tasks;
        lock (account.Lock)
        {
            // Checked and registered under one lock, so concurrent creates cannot both count on the same credits.
            if (Billing.Refusal(account, cost) is { } refusal)
            {
                error = refusal;
                return null;
            }

            shape?.Invoke(job);
            _jobs[job.JobId] = job;
            account.Jobs.Add(job);
        }

        Interlocked.Increment(ref foreign ? ref Counters.ForeignJobsCreated : ref Counters.JobsCreated);
        Interlocked.Add(ref Counters.TasksCreated, tasks.Length);
        error = null;
        return job;
    }

    public void Enqueue(JobState job)
    {
        AccountState account = job.Account;
        lock (account.Lock)
        {
            DateTimeOffset now = Now;
            foreach (TaskState t in job.Tasks)
            {
                if (t.Phase == TaskPhase.Queuing)
                {
                    t.Phase = TaskPhase.Queued;
                    t.UpdateTime = now;
                    account.Waiting.Enqueue(t);
                }
            }
        }

        Pump(account);
    }

    /// <summary>Cancels a job: false when it is already terminal (the API answers 406).</summary>
    public bool Cancel(JobState job)
    {
        AccountState account = job.Account;
        var finished = new List<TaskState>();
        lock (account.Lock)
        {
            if (job.IsTerminal)
            {
                return false;
            }

            DateTimeOffset now = Now;
            job.Canceled = true;
            foreach (TaskState t in job.Tasks)
            {
                if (TaskPhaseNames.IsTerminal(t.Phase))
                {
                    continue;
                }

                if (t.Phase is TaskPhase.Pending or TaskPhase.Rotating)
                {
                    t.Timer?.Dispose();
                    t.Timer = null;
                    job.Running--;
                    account.Running--;
                }

                // Queued tasks stay in the account queue and are skipped when dequeued.
                t.Phase = TaskPhase.Canceled;
                t.EndTime = now;
                t.UpdateTime = now;
                job.Terminal++;
                finished.Add(t);
            }

            job.EndTime = now;
        }

        Interlocked.Add(ref Counters.TasksCompleted, finished.Count);
        NotifyWebhooks(job, finished);
        Pump(account);
        return true;
    }

    public (int ActiveJobs, long Credits, int Free, int Total) Me(AccountState account)
    {
        lock (account.Lock)
        {
            int active = 0;
            foreach (JobState j in account.Jobs)
            {
                if (!j.IsTerminal)
                {
                    active++;
                }
            }

            return (active, Interlocked.Read(ref account.Credits), account.TotalConcurrency - account.Running, account.TotalConcurrency);
        }
    }

    public List<JobState> Jobs(AccountState account)
    {
        lock (account.Lock)
        {
            return [.. account.Jobs];
        }
    }

    /// <summary>Starts waiting tasks while slots are free. Zero-latency tasks finish in the same loop, so a
    /// 10,000-task job at latency 0 neither recurses nor spawns a timer per task.</summary>
    private void Pump(AccountState account)
    {
        var finished = new List<TaskState>();
        lock (account.Lock)
        {
            DateTimeOffset now = Now;
            while (account.Running < account.TotalConcurrency && account.Waiting.TryDequeue(out TaskState? task))
            {
                if (task.Phase != TaskPhase.Queued)
                {
                    continue;
                }

                JobState job = task.Job;
                TaskPlan plan = Content.Plan(task);
                task.Phase = TaskPhase.Pending;
                task.StartTime = now;
                task.UpdateTime = now;
                job.Started++;
                job.Running++;
                account.Running++;
                EmulatorCounters.RaiseMax(ref Counters.MaxRunningTasks, account.Running);
                if (plan.Latency <= TimeSpan.Zero)
                {
                    FinishLocked(task, plan, now);
                    finished.Add(task);
                }
                else
                {
                    Schedule(task, plan, plan.Rotate ? 0 : 2);
                }
            }
        }

        Completed(finished);
    }

    private void Schedule(TaskState task, TaskPlan plan, int step)
    {
        // Rotating tasks spend a third of their latency in each of pending, rotating and pending again.
        TimeSpan due = plan.Rotate ? plan.Latency / 3 : plan.Latency;
        int generation = ++task.Generation;
        task.Timer?.Dispose();
        task.Timer = _time.CreateTimer(static s => ((TimerState)s!).Fire(), new TimerState(this, task, plan, step, generation), due, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer(TaskState task, TaskPlan plan, int step, int generation)
    {
        AccountState account = task.Job.Account;
        bool done = false;
        lock (account.Lock)
        {
            if (task.Generation != generation || task.Phase is not (TaskPhase.Pending or TaskPhase.Rotating))
            {
                return;
            }

            DateTimeOffset now = Now;
            task.Timer?.Dispose();
            task.Timer = null;
            if (step == 0)
            {
                task.Phase = TaskPhase.Rotating;
                task.UpdateTime = now;
                Schedule(task, plan, 1);
            }
            else if (step == 1)
            {
                task.Phase = TaskPhase.Pending;
                task.UpdateTime = now;
                Schedule(task, plan, 2);
            }
            else
            {
                FinishLocked(task, plan, now);
                done = true;
            }
        }

        if (done)
        {
            Completed([task]);
            Pump(account);
        }
    }

    private void FinishLocked(TaskState task, TaskPlan plan, DateTimeOffset now)
    {
        JobState job = task.Job;
        AccountState account = job.Account;
        task.Phase = plan.Error ? TaskPhase.Error : TaskPhase.Success;
        task.StatusCode = plan.StatusCode;
        task.ErrorMessage = plan.ErrorMessage;
        task.EndTime = now;
        task.UpdateTime = now;
        job.Running--;
        account.Running--;
        job.Terminal++;
        if (!plan.Error)
        {
            job.Succeeded++;
        }

        Billing.Charge(account, task);

        if (job.Terminal >= job.Tasks.Length)
        {
            job.EndTime = now;
        }
    }

    private void Completed(List<TaskState> finished)
    {
        if (finished.Count == 0)
        {
            return;
        }

        Interlocked.Add(ref Counters.TasksCompleted, finished.Count);
        foreach (TaskState t in finished)
        {
            if (t.Job.Request.WebhookUrl is not null)
            {
                Webhooks.Enqueue(t);
            }
        }
    }

    private void NotifyWebhooks(JobState job, List<TaskState> tasks)
    {
        if (job.Request.WebhookUrl is null)
        {
            return;
        }

        foreach (TaskState t in tasks)
        {
            Webhooks.Enqueue(t);
        }
    }

    private sealed class TimerState(Engine engine, TaskState task, TaskPlan plan, int step, int generation)
    {
        public void Fire() => engine.OnTimer(task, plan, step, generation);
    }
}

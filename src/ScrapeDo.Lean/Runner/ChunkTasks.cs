using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The task table of one job: which input item each task stands for and who has taken it. It is the one owner of
/// that state; the watcher, the webhook intake and the failure paths go through <see cref="TryClaim"/>, which is
/// atomic, so the first path to claim a task delivers it and every other path skips it (see
/// <see cref="OutcomeDelivery"/> for the exactly-once rule this enforces).
/// </summary>
internal sealed class ChunkTasks : IKnownTasks
{
    private IReadOnlyList<string> _taskIds;
    private readonly List<RunItem> _items;
    private readonly int[] _claimed;
    private int _remaining;
    private int _sideDeliveries;
    private FetchGroup? _fetches;

    public ChunkTasks(string jobId, IReadOnlyList<string> taskIds, List<RunItem> items)
    {
        JobId = jobId;
        _taskIds = taskIds;
        _items = items;
        _claimed = new int[items.Count];
        _remaining = items.Count;
        Context = ExecutionContext.Capture();
    }

    /// <summary>
    /// The context the chunk is watched in (its job's activity, the caller's logging scopes): the fetch workers run
    /// this chunk's fetches in it, as when each fetch was started from the watcher.
    /// </summary>
    public ExecutionContext? Context { get; }

    public string JobId { get; }

    /// <summary>The fetches queued for this chunk's tasks (see <see cref="TaskFetcher.StartAsync"/>).</summary>
    public FetchGroup Fetches => _fetches ??= new FetchGroup(this);

    /// <summary>Tasks in the job, which is also the number of input items (position i of one is position i of the other).</summary>
    public int Count => _items.Count;

    /// <summary>Tasks not yet claimed by any path.</summary>
    public int Remaining => Volatile.Read(ref _remaining);

    public IReadOnlyList<string> TaskIds => Volatile.Read(ref _taskIds);

    public RunItem Item(int index) => _items[index];

    public string TaskId(int index) => Volatile.Read(ref _taskIds)[index];

    /// <inheritdoc/>
    string? IKnownTasks.TaskId(int position)
    {
        IReadOnlyList<string> ids = Volatile.Read(ref _taskIds);
        return (uint)position < (uint)ids.Count ? ids[position] : null;
    }

    /// <inheritdoc/>
    string? IKnownTasks.Url(int position) => (uint)position < (uint)_items.Count && _items[position].Params is null ? _items[position].Target : null;

    /// <summary>The position of <paramref name="taskId"/> in the table, or -1.</summary>
    public int IndexOf(string taskId)
    {
        IReadOnlyList<string> ids = Volatile.Read(ref _taskIds);
        for (int i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], taskId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Re-pairs the job's task ids with this chunk's targets by the URL each task reports in <paramref name="snapshot"/>,
    /// since <c>TaskIDs[i] ↔ Targets[i]</c> is only inferred. For URL targets only, and only when the snapshot lists
    /// exactly this job's tasks with exactly these URLs; otherwise the pairing by position stays (and a task that then
    /// reports another URL is turned into a failed outcome by <see cref="OutcomeDelivery"/>). Call it with the first
    /// snapshot, before any task is handed on: it changes which task each position stands for.
    /// </summary>
    /// <returns>True when the pairing changed.</returns>
    public bool TryAlignByUrl(IReadOnlyList<TaskSummary> snapshot)
    {
        if (_items.Count == 0 || _items[0].Params is not null)
        {
            return false;
        }

        IReadOnlyList<string> current = Volatile.Read(ref _taskIds);
        if (InTargetOrder(snapshot, current))
        {
            return false;
        }

        var targets = new string[_items.Count];
        for (int i = 0; i < targets.Length; i++)
        {
            targets[i] = _items[i].Target;
        }

        if (TargetUrls.Align(snapshot, targets) is not { } aligned || aligned.AsSpan().SequenceEqual(current.ToArray())
            || !new HashSet<string>(aligned, StringComparer.Ordinal).SetEquals(current))
        {
            return false;
        }

        Volatile.Write(ref _taskIds, aligned);
        return true;
    }

    /// <summary>The common case, checked without allocating: the snapshot lists the tasks in order, each at its own target's URL.</summary>
    private bool InTargetOrder(IReadOnlyList<TaskSummary> snapshot, IReadOnlyList<string> taskIds)
    {
        if (snapshot.Count != taskIds.Count)
        {
            return false;
        }

        for (int i = 0; i < snapshot.Count; i++)
        {
            TaskSummary task = snapshot[i];
            if (!string.Equals(task.TaskId, taskIds[i], StringComparison.Ordinal) || task.Url is null || !TargetUrls.Same(_items[i].Target, task.Url))
            {
                return false;
            }
        }

        return true;
    }

    public bool IsClaimed(int index) => Volatile.Read(ref _claimed[index]) != 0;

    /// <summary>Takes task <paramref name="index"/> for the caller; true exactly once per index over the chunk's life.</summary>
    public bool TryClaim(int index)
    {
        if (Interlocked.Exchange(ref _claimed[index], 1) != 0)
        {
            return false;
        }

        Interlocked.Decrement(ref _remaining);
        return true;
    }

    /// <summary>Claims, without delivering, the items an earlier process already delivered (per the journal).</summary>
    public void ClaimAlreadyDelivered(Func<long, bool> delivered)
    {
        for (int i = 0; i < _items.Count; i++)
        {
            if (delivered(_items[i].Index))
            {
                TryClaim(i);
            }
        }
    }

    /// <summary>A webhook delivery is between its claim and its emit; the chunk must not end under it.</summary>
    public void BeginSideDelivery() => Interlocked.Increment(ref _sideDeliveries);

    public void EndSideDelivery() => Interlocked.Decrement(ref _sideDeliveries);

    /// <summary>Waits until every side delivery that claimed a task has handed its outcome over.</summary>
    public async Task WhenSideDeliveriesDoneAsync(CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref _sideDeliveries) > 0)
        {
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The fetches of one chunk that are queued or running, as few tasks as possible for the watcher to await: one task
/// per stretch during which fetches were outstanding, which ends when the last of them has ended, with the first
/// failure of that stretch (a cancellation only when nothing else failed).
/// </summary>
internal sealed class FetchGroup(ChunkTasks tasks)
{
    private readonly Lock _lock = new();
    // Positions queued for a worker, in order: each task is claimed (so queued) at most once, so the array never wraps.
    private int[]? _queued;
    private int _head;
    private int _tail;
    private int _outstanding;
    private TaskCompletionSource? _stretch;
    private Exception? _failure;

    public ChunkTasks Tasks => tasks;

    /// <summary>
    /// Queues position <paramref name="index"/>: the stretch's task when this fetch opened it, else a completed task
    /// (the stretch's task, already handed out, also covers this fetch). <paramref name="wasIdle"/> says that nothing
    /// was queued before, so the group must be offered to the workers.
    /// </summary>
    public Task Started(int index, out bool wasIdle)
    {
        lock (_lock)
        {
            _queued ??= new int[tasks.Count];
            wasIdle = _head == _tail;
            _queued[_tail++] = index;
            if (_outstanding++ > 0)
            {
                return Task.CompletedTask;
            }

            _stretch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _stretch.Task;
        }
    }

    /// <summary>Takes the next queued position; <paramref name="more"/> says whether others are still queued.</summary>
    public bool TryTake(out int index, out bool more)
    {
        lock (_lock)
        {
            if (_queued is null || _head == _tail)
            {
                (index, more) = (-1, false);
                return false;
            }

            index = _queued[_head++];
            more = _head != _tail;
            return true;
        }
    }

    /// <summary>A fetch ended (after its emit), with <paramref name="error"/> when it failed.</summary>
    public void Ended(Exception? error)
    {
        TaskCompletionSource stretch;
        Exception? failure;
        lock (_lock)
        {
            if (error is not null && (_failure is null || (_failure is OperationCanceledException && error is not OperationCanceledException)))
            {
                _failure = error;
            }

            if (--_outstanding > 0)
            {
                return;
            }

            (stretch, failure) = (_stretch!, _failure);
            (_stretch, _failure) = (null, null);
        }

        if (failure is null)
        {
            stretch.TrySetResult();
        }
        else if (failure is OperationCanceledException canceled)
        {
            stretch.TrySetCanceled(canceled.CancellationToken);
        }
        else
        {
            stretch.TrySetException(failure);
        }
    }
}

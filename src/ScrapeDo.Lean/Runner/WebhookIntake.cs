using System.Collections.Concurrent;
using System.Threading.Channels;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The webhook fast path: a terminal task pushed by a webhook is delivered without a fetch, if this run owns it and
/// no other path claimed it first. Polling stays the safety net, so a delivery lost or refused here costs nothing.
/// </summary>
internal sealed class WebhookIntake(OutcomeDelivery delivery, TimeProvider time, Microsoft.Extensions.Logging.ILogger log, CancellationToken cancellationToken, bool leaseContent = false)
{
    private readonly ConcurrentDictionary<string, (ChunkTasks Tasks, int Index)> _byTaskId = new(StringComparer.Ordinal);

    /// <summary>Makes the unclaimed tasks of a chunk reachable by their task id.</summary>
    public void Register(ChunkTasks tasks)
    {
        for (int i = 0; i < tasks.Count; i++)
        {
            if (!tasks.IsClaimed(i))
            {
                _byTaskId[tasks.TaskId(i)] = (tasks, i);
            }
        }
    }

    public void Unregister(ChunkTasks tasks)
    {
        foreach (string taskId in tasks.TaskIds)
        {
            _byTaskId.TryRemove(taskId, out _);
        }
    }

    /// <summary>Reads deliveries until the source completes or the run ends; never fails the run.</summary>
    public async Task ReadAsync(ChannelReader<TaskDetails> deliveries)
    {
        try
        {
            await foreach (TaskDetails task in deliveries.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await TakeAsync(task).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The deliveries source failed: webhooks are only a fast path, polling still delivers every task.
            Log.WebhookSourceFailed(log, ex);
        }
    }

    private async Task TakeAsync(TaskDetails task)
    {
        if (!task.Status.IsTerminal || !_byTaskId.TryGetValue(task.TaskId, out var entry) || entry.Tasks.JobId != task.JobId)
        {
            // Not a task of this run (or not finished): a stray or forged delivery changes nothing.
            return;
        }

        ChunkTasks tasks = entry.Tasks;
        tasks.BeginSideDelivery();
        try
        {
            if (!tasks.TryClaim(entry.Index))
            {
                return;
            }

            RunItem item = tasks.Item(entry.Index);
            await delivery.EmitAsync(task.Status == ScrapeDoStatus.Canceled
                ? OutcomeDelivery.Canceled(item, task.JobId, task.TaskId)
                : Outcome(item, task)).ConfigureAwait(false);
        }
        finally
        {
            tasks.EndSideDelivery();
        }
    }

    /// <summary>
    /// The outcome of a pushed task. With leases its content is copied into one (the delivery is not the run's to
    /// empty: the receiver's channel may have other readers), and the outcome carries a copy of the rest.
    /// </summary>
    private TaskOutcome Outcome(RunItem item, TaskDetails task) => leaseContent
        ? TaskFetcher.ToOutcome(item, task.WithoutContent(), time.GetUtcNow(), PooledTaskContent.Copy(task.Content))
        : TaskFetcher.ToOutcome(item, task, time.GetUtcNow());
}

namespace ScrapeDo.Lean.Internal;

// Compiled into the library and, linked, into the emulator: both start fire-and-forget work that shutdown must await.
/// <summary>Tracks started tasks so the run can wait for all of them.</summary>
internal sealed class ConcurrentTaskSet
{
    private readonly HashSet<Task> _tasks = [];

    public void Track(Task task)
    {
        lock (_tasks)
        {
            _tasks.Add(task);
        }

        task.ContinueWith(static (t, s) =>
        {
            var set = (HashSet<Task>)s!;
            lock (set)
            {
                set.Remove(t);
            }
        }, _tasks, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public async Task WhenAllAsync()
    {
        while (true)
        {
            Task[] pending;
            lock (_tasks)
            {
                pending = [.. _tasks.Where(t => !t.IsCompleted)];
            }

            if (pending.Length == 0)
            {
                return;
            }

            try
            {
                await Task.WhenAll(pending).ConfigureAwait(false);
            }
            catch
            {
                // Each tracked task reports its own failure; here we only wait.
            }
        }
    }
}

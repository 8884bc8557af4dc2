namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>A task a job snapshot shows finished that no path has claimed yet.</summary>
internal readonly record struct FinishedTask(int Index, ScrapeDoStatus Status);

/// <summary>
/// Compares one job snapshot with the chunk's task table and names the tasks that have finished since any path last
/// took one. Pure: it reads the table's claims but takes none; the watcher claims what it is handed.
/// </summary>
internal static class SnapshotDiff
{
    /// <summary>Adds to <paramref name="finished"/> each unclaimed task whose status in <paramref name="snapshot"/> is terminal.</summary>
    public static void FindFinished(IReadOnlyList<TaskSummary> snapshot, ChunkTasks tasks, List<FinishedTask> finished)
    {
        int count = tasks.Count;
        bool aligned = snapshot.Count == count;
        // Built only when the snapshot's order differs from TaskIDs, once per poll.
        Dictionary<string, int>? positions = null;
        for (int i = 0; i < count; i++)
        {
            if (tasks.IsClaimed(i))
            {
                continue;
            }

            TaskSummary? summary;
            if (aligned && snapshot[i].TaskId == tasks.TaskId(i))
            {
                summary = snapshot[i];
            }
            else
            {
                positions ??= Index(snapshot);
                summary = positions.TryGetValue(tasks.TaskId(i), out int at) ? snapshot[at] : null;
            }

            if (summary is not null && summary.Status.IsTerminal)
            {
                finished.Add(new FinishedTask(i, summary.Status));
            }
        }
    }

    private static Dictionary<string, int> Index(IReadOnlyList<TaskSummary> tasks)
    {
        var map = new Dictionary<string, int>(tasks.Count, StringComparer.Ordinal);
        for (int i = 0; i < tasks.Count; i++)
        {
            map[tasks[i].TaskId] = i;
        }

        return map;
    }
}

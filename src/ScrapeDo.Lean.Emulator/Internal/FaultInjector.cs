namespace ScrapeDo.Lean.Emulator.Internal;

internal enum CreateFault
{
    None,
    CommitThenError,
    CommitThenSlow,
}

internal enum Fault
{
    None,
    RateLimit,
    ServerError,
    Drop,
    Truncate,
    Slow,
}

/// <summary>Draws one fault per API request from a seeded generator, so a run with the same seed and the same
/// request order sees the same faults.</summary>
internal sealed class FaultInjector(FaultOptions options, int seed)
{
    private readonly Random _random = new(options.Seed ?? seed);

    // The server faults draw from their own stream, so turning them on leaves the per-request draws as they were.
    private readonly Random _server = new((options.Seed ?? seed) ^ 0x5EED);
    private readonly Lock _lock = new();
    private int _nonJsonInjected;

    public (Fault Fault, int Status) Next()
    {
        if (!options.AnyPerRequest)
        {
            return (Fault.None, 0);
        }

        double roll;
        int pick;
        lock (_lock)
        {
            roll = _random.NextDouble();
            pick = _random.Next(3);
        }

        double edge = options.RateLimitShare;
        if (roll < edge)
        {
            return (Fault.RateLimit, 429);
        }

        if (roll < (edge += options.ServerErrorShare))
        {
            return (Fault.ServerError, pick switch { 0 => 500, 1 => 502, _ => 503 });
        }

        if (roll < (edge += options.DropShare))
        {
            return (Fault.Drop, 0);
        }

        if (roll < (edge += options.TruncateShare))
        {
            return (Fault.Truncate, 0);
        }

        return roll < edge + options.SlowShare ? (Fault.Slow, 0) : (Fault.None, 0);
    }

    /// <summary>What a create does after it has created its job: answer normally, fail, or answer late.</summary>
    public (CreateFault Fault, int Status) NextCreate()
    {
        if (options.CommitThenErrorShare + options.CommitThenSlowShare <= 0)
        {
            return (CreateFault.None, 0);
        }

        double roll;
        int pick;
        lock (_lock)
        {
            roll = _server.NextDouble();
            pick = _server.Next(options.CommitThenErrorStatuses.Count);
        }

        if (roll < options.CommitThenErrorShare)
        {
            return (CreateFault.CommitThenError, options.CommitThenErrorStatuses[pick]);
        }

        return roll < options.CommitThenErrorShare + options.CommitThenSlowShare ? (CreateFault.CommitThenSlow, 0) : (CreateFault.None, 0);
    }

    /// <summary>Decides, once per new job, how its snapshots misbehave and whether a foreign twin follows it.</summary>
    /// <returns>True when another client should create a look-alike job.</returns>
    public bool ShapeNewJob(JobState job)
    {
        int count = job.Tasks.Length;
        lock (_lock)
        {
            if (Draw(options.SnapshotOmitTaskShare))
            {
                job.OmittedTask = _server.Next(count);
            }

            if (Draw(options.SnapshotUnknownStatusShare))
            {
                job.UnknownStatusTask = _server.Next(count);
                job.UnknownStatus = options.SnapshotUnknownStatus;
            }

            job.UpperCaseStatuses = Draw(options.SnapshotUpperCaseShare);
            if (count > 1 && Draw(options.ShuffledTaskIdsShare))
            {
                int[] order = Enumerable.Range(0, count).ToArray();
                _server.Shuffle(order);
                // A shuffle may give the identity back; the fault promises a different order.
                if (order.SequenceEqual(Enumerable.Range(0, count)))
                {
                    (order[0], order[1]) = (order[1], order[0]);
                }

                job.TaskIdOrder = order;
            }

            return Draw(options.ForeignTwinShare);
        }
    }

    /// <summary>True when this GET is to be answered 200 with a body that is not JSON.</summary>
    public bool NextNonJson(EmulatorGets endpoint)
    {
        if (options.NonJsonShare <= 0 || (options.NonJsonOn & endpoint) == 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (options.NonJsonLimit > 0 && _nonJsonInjected >= options.NonJsonLimit)
            {
                return false;
            }

            if (!Draw(options.NonJsonShare))
            {
                return false;
            }

            _nonJsonInjected++;
            return true;
        }
    }

    // Called under the lock; a share of 0 draws nothing, so unused faults leave the stream alone.
    private bool Draw(double share) => share > 0 && _server.NextDouble() < share;
}

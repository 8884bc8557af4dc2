namespace ScrapeDo.Lean.Emulator.Internal;

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
    private readonly Lock _lock = new();

    public (Fault Fault, int Status) Next()
    {
        if (!options.Any)
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
}

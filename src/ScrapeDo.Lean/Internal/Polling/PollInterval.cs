namespace ScrapeDo.Lean.Internal.Polling;

/// <summary>
/// Adaptive poll cadence of one job: starts short, doubles while nothing changes, halves while tasks are finishing,
/// stays within [min, max], takes a server's Retry-After as a floor, and is jittered ±20 % (at most max) so that many
/// jobs started together do not poll together.
/// </summary>
internal sealed class PollInterval(TimeSpan min, TimeSpan max, Func<double> random)
{
    private TimeSpan _current = TimeSpan.FromTicks(min.Ticks);

    public TimeSpan Current => _current;

    public TimeSpan Next(int newlyTerminal, TimeSpan? retryAfter = null)
    {
        _current = newlyTerminal > 0
            ? TimeSpan.FromTicks(Math.Max(min.Ticks, _current.Ticks / 2))
            : TimeSpan.FromTicks(Math.Min(max.Ticks, _current.Ticks * 2));
        // Jittered, then held to the maximum: MaxPollInterval is the longest wait between polls (waits at the cap spread
        // over [0.8, 1] of it), unless the server's Retry-After asks for more.
        TimeSpan wait = TimeSpan.FromTicks(Math.Min(max.Ticks, (long)(_current.Ticks * (0.8 + 0.4 * random()))));
        if (retryAfter is { } floor && floor > wait)
        {
            wait = floor;
        }

        return wait;
    }
}

namespace ScrapeDo.Lean.Internal;

/// <summary>
/// The longest wait a timer takes (<see cref="Task.Delay(TimeSpan)"/>, <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>:
/// about 49.7 days). A setting that becomes such a wait is checked against it when the options are validated, so a
/// host refuses it at start instead of every call failing later with the timer's own exception.
/// </summary>
internal static class TimerLimit
{
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>Throws when <paramref name="value"/> is longer than a timer can wait (<see cref="Timeout.InfiniteTimeSpan"/> aside).</summary>
    public static void ThrowIfTooLong(TimeSpan value, string paramName, string name)
    {
        if (value > Max)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{name} must be at most {Max} (the longest wait a timer takes).");
        }
    }

    /// <summary><paramref name="wait"/> cut to what a timer takes and never negative.</summary>
    public static TimeSpan Clamp(TimeSpan wait) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > Max ? Max : wait;
}

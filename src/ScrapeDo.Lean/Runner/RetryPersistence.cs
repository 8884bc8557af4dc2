using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// Keeps one operation going through transient failures: waits grow from 0.5 s to 30 s (jittered, floored by
/// Retry-After), and the operation gives up only after failing continuously for <see cref="RunOptions.GiveUpAfter"/>.
/// Time, not a count, decides, so a long 429 storm slows the run down instead of failing targets.
/// </summary>
/// <param name="time">The clock.</param>
/// <param name="giveUpAfter">How long failures may go on.</param>
/// <param name="cancellationToken">Cancels the waits.</param>
/// <param name="since">When the operation began (a <see cref="TimeProvider.GetTimestamp"/>), if before now.</param>
internal sealed class RetryPersistence(TimeProvider time, TimeSpan giveUpAfter, CancellationToken cancellationToken, long? since = null)
{
    private long _since = since ?? time.GetTimestamp();
    private int _round;

    public bool KeepTrying => time.GetElapsedTime(_since) < giveUpAfter;

    /// <summary>Whether a failure may pass if tried again: throttling, server errors, timeouts, transport errors.</summary>
    public static bool IsTransient(ScrapeDoException ex) => ex switch
    {
        ScrapeDoApiException api => !api.IsMalformedResponse && (api.IsRateLimited || api.IsServerError || (int)api.StatusCode == 408),
        ScrapeDoTransportException { RefusedBeforeSending: true } => false,
        ScrapeDoTimeoutException or ScrapeDoTransportException => true,
        _ => false,
    };

    /// <summary>
    /// <see cref="IsTransient"/>, plus a 2xx whose body is not the expected JSON: a GET changes nothing on the server,
    /// and such a body is most often a proxy's or load balancer's page, so reading again is safe and likely to pass.
    /// </summary>
    public static bool IsTransientRead(ScrapeDoException ex) => IsTransient(ex) || ex is ScrapeDoApiException { IsMalformedResponse: true };

    public void Reset()
    {
        _since = time.GetTimestamp();
        _round = 0;
    }

    public Task WaitAsync(ScrapeDoException? failure)
    {
        TimeSpan wait;
        if ((failure as ScrapeDoApiException)?.RetryAfter is { } told)
        {
            // The server said when to come back: do that (spread by up to 20 % so a crowd does not return at once)
            // rather than compounding our own backoff on top of its instruction.
            wait = told * (1 + 0.2 * Random.Shared.NextDouble());
        }
        else
        {
            double seconds = Math.Min(30, 0.5 * Math.Pow(2, Math.Min(_round++, 10)));
            wait = TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble()));
        }

        return Task.Delay(Bound(wait), time, cancellationToken);
    }

    /// <summary>
    /// <paramref name="wait"/>, but never past the moment this operation gives up (a Retry-After of days would otherwise
    /// hold the run that long, or, past a timer's range, fail it): the wait ends then, and KeepTrying says so.
    /// </summary>
    public TimeSpan Bound(TimeSpan wait)
    {
        TimeSpan left = giveUpAfter - time.GetElapsedTime(_since);
        return TimerLimit.Clamp(wait < left ? wait : left);
    }
}

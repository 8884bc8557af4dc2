namespace ScrapeDo.Lean.Cli;

/// <summary>
/// Says on stderr that calls keep failing and are being retried, once that has gone on for <see cref="After"/> and
/// then at most every <see cref="Every"/>. Without it a run whose server went away was silent for as long as it kept trying (up to
/// the runner's <see cref="RunOptions.GiveUpAfter"/>, 10 minutes, before its targets are reported failed).
/// </summary>
/// <remarks>
/// It watches the client's count of failed attempts once a second (not its retry count, which stops growing once the
/// client's retry budget is spent while the runner keeps trying) rather than listening to the library's log events: a logger
/// other than the null one makes every log message's formatting reachable, about 57 KB more in the native binary.
/// </remarks>
internal sealed class RetryNotice : IAsyncDisposable
{
    /// <summary>The least time between two notices.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long retries must have gone on before the first notice: a call that fails a few times and then gives its
    /// own error (an unreachable server for <c>account</c>, about a second of attempts) says nothing more.
    /// </summary>
    public static readonly TimeSpan After = TimeSpan.FromSeconds(5);

    // A second without a failure does not end an episode: the runner waits up to 30 s between its rounds of attempts.
    private static readonly TimeSpan EpisodeGap = TimeSpan.FromSeconds(60);

    private readonly ScrapeDoClient _client;
    private readonly TextWriter _error;
    private readonly bool _errorIsTerminal;
    private readonly PeriodicTimer _timer = new(TimeSpan.FromSeconds(1));
    private readonly Task _watching;
    private long _seen;
    private long _episodeStart;
    private long _lastFailure = long.MinValue;
    private long _lastNotice = long.MinValue;

    public RetryNotice(ScrapeDoClient client, TextWriter error, bool errorIsTerminal)
    {
        (_client, _error, _errorIsTerminal) = (client, error, errorIsTerminal);
        _seen = client.TransientFailures;
        _watching = WatchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        await _watching.ConfigureAwait(false);
    }

    private async Task WatchAsync()
    {
        while (await _timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            if (Notice(Environment.TickCount64) is { } notice)
            {
                // On a terminal the progress line is being redrawn in place: the notice starts on a line of its own.
                _error.WriteLine(_errorIsTerminal ? "\n" + notice : notice);
            }
        }
    }

    private string? Notice(long now)
    {
        long failures = _client.TransientFailures;
        if (failures == _seen)
        {
            return null;
        }

        _seen = failures;
        if (_lastFailure == long.MinValue || now - _lastFailure > (long)EpisodeGap.TotalMilliseconds)
        {
            _episodeStart = now;
        }

        _lastFailure = now;
        if (now - _episodeStart < (long)After.TotalMilliseconds
            || (_lastNotice != long.MinValue && now - _lastNotice < (long)Every.TotalMilliseconds))
        {
            return null;
        }

        _lastNotice = now;
        return _client.LastFailureReason == "HTTP 429"
            ? $"scrapedo: the API is rate-limiting (HTTP 429); slowing down as it asks ({failures} refused attempts so far)."
            : $"scrapedo: the API is not answering ({_client.LastFailureReason ?? "error"}); still retrying ({failures} failed attempts so far). Ctrl-C stops; with --journal, --resume continues.";
    }
}

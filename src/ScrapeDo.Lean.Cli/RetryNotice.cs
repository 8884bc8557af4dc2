using Microsoft.Extensions.Logging;

namespace ScrapeDo.Lean.Cli;

/// <summary>
/// The client's logger on the CLI: says on stderr, at most every <see cref="Every"/>, that calls are being retried.
/// Without it a run whose server went away was silent for as long as it kept trying (up to the runner's
/// <see cref="RunOptions.GiveUpAfter"/>, 10 minutes, before its targets are reported failed).
/// </summary>
/// <remarks>Only the retry and rate-limit events are read; everything else the library logs is dropped.</remarks>
internal sealed class RetryNotice(TextWriter error, bool errorIsTerminal) : ILoggerFactory, ILogger
{
    /// <summary>The least time between two notices.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long retries must have gone on before the first notice: a call that fails a few times and then gives its
    /// own error (an unreachable server for <c>account</c>, about a second of attempts) says nothing more.
    /// </summary>
    public static readonly TimeSpan After = TimeSpan.FromSeconds(5);

    // Retries further apart than this are separate episodes (the runner waits at most 30 s between its rounds).
    private static readonly TimeSpan EpisodeGap = TimeSpan.FromSeconds(60);

    // Event ids of the library's Log class (src/ScrapeDo.Lean/Internal/Log.cs).
    private const int RetryScheduledId = 1001;
    private const int RateLimitedId = 1002;

    private readonly object _gate = new();
    private long _retries;
    private long _episodeStart;
    private long _lastRetry = long.MinValue;
    private long _lastNotice = long.MinValue;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id is not (RetryScheduledId or RateLimitedId))
        {
            return;
        }

        string? reason = eventId.Id == RateLimitedId ? "HTTP 429" : null;
        if (reason is null && state is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            foreach (KeyValuePair<string, object?> field in fields)
            {
                reason = field.Key == "Reason" ? field.Value as string : reason;
            }
        }

        string? notice = null;
        lock (_gate)
        {
            _retries += eventId.Id == RetryScheduledId ? 1 : 0;
            long now = Environment.TickCount64;
            if (_lastRetry == long.MinValue || now - _lastRetry > (long)EpisodeGap.TotalMilliseconds)
            {
                _episodeStart = now;
            }

            _lastRetry = now;
            if (now - _episodeStart >= (long)After.TotalMilliseconds
                && (_lastNotice == long.MinValue || now - _lastNotice >= (long)Every.TotalMilliseconds))
            {
                _lastNotice = now;
                notice = reason == "HTTP 429"
                    ? $"scrapedo: the API is rate-limiting (HTTP 429); slowing down as it asks ({_retries} retries so far)."
                    : $"scrapedo: the API is not answering ({reason ?? "error"}); still retrying ({_retries} retries so far). Ctrl-C stops; with --journal, --resume continues.";
            }
        }

        if (notice is not null)
        {
            // On a terminal the progress line is being redrawn in place: the notice starts on a line of its own.
            error.WriteLine(errorIsTerminal ? "\n" + notice : notice);
        }
    }
}

using System.Runtime.CompilerServices;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean;

/// <summary>
/// Pushes any number of targets through the Async API and streams back exactly one <see cref="TaskOutcome"/> per
/// input target, in completion order: chunks of at most 1000 targets become jobs (submitted while earlier results
/// already stream), jobs are polled adaptively, only newly finished tasks are fetched, each exactly once, and a
/// journal makes the run resumable without ever creating a job twice.
/// </summary>
/// <remarks>
/// An outcome counts as delivered (and is journaled so) once the consumer asks for the next one or stops the
/// enumeration; a process killed between taking an outcome and asking for the next sees that one outcome again on
/// resume, never none. With <see cref="RunOptions.FlushSink"/> an outcome counts as delivered only once the sink was
/// flushed after the consumer handled it (group commit), so a sink that fails (a full disk) never loses one. Memory stays flat whatever the input size: the input is read lazily, at most
/// <see cref="RunOptions.MaxJobsInFlight"/> jobs are open, and at most <see cref="RunOptions.MaxConcurrentTaskFetches"/>
/// + <see cref="RunOptions.MaxBufferedOutcomes"/> task contents are held; a slow consumer slows the run down.
/// </remarks>
public sealed partial class ScrapeDoRunner
{
    private readonly ScrapeDoClient _client;
    private readonly RunOptions _options;

    /// <summary>Creates a runner over a client.</summary>
    /// <param name="client">The client to send requests with (not disposed by the runner).</param>
    /// <param name="options">Run settings; null for the defaults.</param>
    public ScrapeDoRunner(ScrapeDoClient client, RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= new RunOptions();
        options.Validate();
        _client = client;
        _options = options;
    }

    /// <summary>Scrapes <paramref name="targets"/>; see <see cref="RunAsync(IAsyncEnumerable{string}, CreateJobRequest?, CancellationToken)"/>.</summary>
    public IAsyncEnumerable<TaskOutcome> RunAsync(IEnumerable<string> targets, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return RunAsync(ToAsync(targets), template, cancellationToken);
    }

    /// <summary>
    /// Scrapes every URL in <paramref name="targets"/> with the options of <paramref name="template"/>.
    /// An invalid URL yields a <see cref="OutcomeStatus.Failed"/> outcome and is not sent.
    /// </summary>
    /// <param name="targets">Absolute http(s) URLs, read lazily.</param>
    /// <param name="template">Options for every job (its <c>Targets</c> and <c>Plugin</c> must be null).</param>
    /// <param name="cancellationToken">Stops the run promptly; running server jobs are canceled unless
    /// <see cref="RunOptions.CancelJobsOnCancellation"/> is false.</param>
    /// <returns>One outcome per target, in completion order.</returns>
    /// <exception cref="ScrapeDoApiException">The token was refused (401): nothing can succeed, so the run stops.</exception>
    public IAsyncEnumerable<TaskOutcome> RunAsync(IAsyncEnumerable<string> targets, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return RunCoreAsync(Items(targets), ValidTemplate(template), pluginKey: null, cancellationToken);
    }

    /// <summary>Runs a plugin over parameter sets; see <see cref="RunPluginAsync(string, IAsyncEnumerable{PluginParams}, CreateJobRequest?, CancellationToken)"/>.</summary>
    public IAsyncEnumerable<TaskOutcome> RunPluginAsync(string pluginKey, IEnumerable<PluginParams> parameters, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return RunPluginAsync(pluginKey, ToAsync(parameters), template, cancellationToken);
    }

    /// <summary>
    /// Runs the plugin <paramref name="pluginKey"/> once per parameter set, chunked into jobs like URL runs.
    /// </summary>
    /// <param name="pluginKey">The plugin key, e.g. <see cref="PluginKeys.AmazonProductDetail"/>.</param>
    /// <param name="parameters">Parameter sets, read lazily.</param>
    /// <param name="template">Options for every job (its <c>Targets</c> and <c>Plugin</c> must be null).</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public IAsyncEnumerable<TaskOutcome> RunPluginAsync(string pluginKey, IAsyncEnumerable<PluginParams> parameters, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginKey);
        ArgumentNullException.ThrowIfNull(parameters);
        return RunCoreAsync(Items(parameters), ValidTemplate(template), pluginKey, cancellationToken);
    }

    // Checked by the public call itself, not at the first MoveNextAsync, as an argument error should be.
    private static CreateJobRequest ValidTemplate(CreateJobRequest? template)
    {
        template ??= new CreateJobRequest();
        if (template.Targets is not null || template.Plugin is not null)
        {
            throw new ArgumentException("The run template must not set Targets or Plugin; the runner fills them per job.", nameof(template));
        }

        return template;
    }

    private async IAsyncEnumerable<TaskOutcome> RunCoreAsync(IAsyncEnumerable<RunItem> items, CreateJobRequest template, string? pluginKey, [EnumeratorCancellation] CancellationToken cancellationToken)
    {

        var session = new RunPipeline(_client, _options, template, pluginKey, cancellationToken);
        // Without ConfigureAwait the disposal would resume on the consumer's context, which a consumer that stops early
        // and blocks on DisposeAsync (a UI thread, a sync wrapper) holds: a deadlock.
        await using ConfiguredAsyncDisposable disposeSession = session.ConfigureAwait(false);
        try
        {
            await session.StartAsync(items).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The stages wait on the run's own linked token; what reaches the caller names the caller's.
            throw new OperationCanceledException(cancellationToken);
        }

        Func<CancellationToken, ValueTask>? flushSink = _options.FlushSink;
        var unflushed = new List<TaskOutcome>();
        TaskOutcome? handedOut = null;
        bool flushFailed = false;
        try
        {
            while (true)
            {
                // Checked before each outcome, not only while waiting: after a cancel no further outcome is handed out,
                // also of those already buffered (they stay undelivered in the journal; their leases are returned).
                if (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                if (!session.Delivery.TryRead(out TaskOutcome? outcome))
                {
                    // On the caller's token, and the stages complete the channel with it when the caller cancels.
                    if (!await session.Delivery.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }

                    continue;
                }

                handedOut = outcome;
                yield return outcome;
                // Reached only when the consumer asks for the next outcome, i.e. after it handled this one.
                handedOut = null;
                if (flushSink is null)
                {
                    await session.AcknowledgeAsync(outcome).ConfigureAwait(false);
                    continue;
                }

                unflushed.Add(outcome);
                if (unflushed.Count >= _options.MaxUnflushedOutcomes || !session.Delivery.HasReady)
                {
                    flushFailed = true;
                    await CommitAsync(session, flushSink, unflushed, cancellationToken).ConfigureAwait(false);
                    flushFailed = false;
                }
            }

            if (flushSink is not null)
            {
                flushFailed = true;
                await CommitAsync(session, flushSink, unflushed, cancellationToken).ConfigureAwait(false);
                flushFailed = false;
            }

            await session.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            // Without a sink flush, a consumer that stops (break, dispose) after an outcome has taken that outcome. Only a
            // process that dies between taking an outcome and asking for the next gets that one outcome again on resume.
            if (flushSink is null)
            {
                if (handedOut is not null)
                {
                    await session.AcknowledgeAsync(handedOut).ConfigureAwait(false);
                }
            }
            else if (!flushFailed)
            {
                // The outcome in the consumer's hands is left out: the runner cannot tell a consumer that wrote it and
                // stopped from one that threw before writing it (a cancellation check, its own error), and journaling
                // one the sink never got would lose it. A resume delivers it again, as after a crash; the CLI finds its
                // record in the output and does not write it twice.
                await CommitOnExitAsync(session, flushSink, unflushed).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Group commit: the sink is flushed first, then its outcomes are journaled <c>done</c> in one write.</summary>
    private static async Task CommitAsync(RunPipeline session, Func<CancellationToken, ValueTask> flushSink, List<TaskOutcome> unflushed, CancellationToken cancellationToken)
    {
        if (unflushed.Count == 0)
        {
            return;
        }

        await flushSink(cancellationToken).ConfigureAwait(false);
        await session.Delivery.AcknowledgeAsync(unflushed).ConfigureAwait(false);
        unflushed.Clear();
    }

    /// <summary>
    /// The enumeration ends early (the consumer stopped, or its handling threw): what the sink can still flush is
    /// journaled; if the flush fails (the consumer's own write failed, say), nothing pending is, and a resume delivers
    /// those outcomes again. Never throws over the exception that ended the enumeration.
    /// </summary>
    private static async Task CommitOnExitAsync(RunPipeline session, Func<CancellationToken, ValueTask> flushSink, List<TaskOutcome> unflushed)
    {
        if (unflushed.Count == 0)
        {
            return;
        }

        try
        {
            await flushSink(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            return;
        }

        await session.Delivery.AcknowledgeAsync(unflushed).ConfigureAwait(false);
        unflushed.Clear();
    }

    private static async IAsyncEnumerable<RunItem> Items(IAsyncEnumerable<string> targets, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long index = 0;
        await foreach (string target in targets.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            // A source that ignores the token can answer after the run stopped waiting for it (RunPipeline's producer
            // grace): what it answers then, an item or its end, goes nowhere.
            cancellationToken.ThrowIfCancellationRequested();
            yield return new RunItem(index++, target ?? string.Empty, null);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private static async IAsyncEnumerable<RunItem> Items(IAsyncEnumerable<PluginParams> parameters, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long index = 0;
        await foreach (PluginParams p in parameters.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            ArgumentNullException.ThrowIfNull(p, nameof(parameters));
            yield return new RunItem(index++, p.ToString(), p);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

#pragma warning disable CS1998 // An adapter: the source is synchronous.
    private static async IAsyncEnumerable<T> ToAsync<T>(IEnumerable<T> source)
#pragma warning restore CS1998
    {
        foreach (T item in source)
        {
            yield return item;
        }
    }
}

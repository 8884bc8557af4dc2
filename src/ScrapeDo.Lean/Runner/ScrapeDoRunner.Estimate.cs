using ScrapeDo.Lean.Credits;
using ScrapeDo.Lean.Internal;

namespace ScrapeDo.Lean;

public sealed partial class ScrapeDoRunner
{
    /// <summary>Estimates a run; see <see cref="EstimateAsync(IAsyncEnumerable{string}, CreateJobRequest?, CancellationToken)"/>.</summary>
    public Task<RunEstimate> EstimateAsync(IEnumerable<string> targets, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        return EstimateAsync(ToAsync(targets), template, cancellationToken);
    }

    /// <summary>
    /// What <see cref="RunAsync(IAsyncEnumerable{string}, CreateJobRequest?, CancellationToken)"/> would cost, without
    /// creating anything: the targets that would be sent, their credits by <see cref="RunOptions.CreditTable"/>, the
    /// account's credits and free slots from <c>/api/v1/me</c>, a rough duration, and with
    /// <see cref="RunOptions.MaxCredits"/> how far the budget reaches.
    /// </summary>
    /// <param name="targets">The URLs, read once.</param>
    /// <param name="template">The job options the run would use.</param>
    /// <param name="cancellationToken">Stops the estimate.</param>
    /// <exception cref="ScrapeDoApiException">The token was refused (401).</exception>
    public async Task<RunEstimate> EstimateAsync(IAsyncEnumerable<string> targets, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        long count = 0;
        await foreach (string target in targets.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            // Invalid URLs are reported failed without being sent, so they cost nothing.
            if (RequestValidator.TargetProblem(target ?? string.Empty) is null)
            {
                count++;
            }
        }

        return await EstimateCoreAsync(count, template ?? new CreateJobRequest(), pluginKey: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What <see cref="RunPluginAsync(string, IAsyncEnumerable{PluginParams}, CreateJobRequest?, CancellationToken)"/> would cost; nothing is created.</summary>
    /// <param name="pluginKey">The plugin key.</param>
    /// <param name="parameters">The parameter sets, read once.</param>
    /// <param name="template">The job options the run would use.</param>
    /// <param name="cancellationToken">Stops the estimate.</param>
    public async Task<RunEstimate> EstimatePluginAsync(string pluginKey, IAsyncEnumerable<PluginParams> parameters, CreateJobRequest? template = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pluginKey);
        ArgumentNullException.ThrowIfNull(parameters);
        long count = 0;
        await foreach (PluginParams _ in parameters.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            count++;
        }

        return await EstimateCoreAsync(count, template ?? new CreateJobRequest(), pluginKey, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RunEstimate> EstimateCoreAsync(long targets, CreateJobRequest template, string? pluginKey, CancellationToken cancellationToken)
    {
        int perTask = (_options.CreditTable ?? CreditTable.Default).CostPerTask(template, pluginKey);
        AccountInfo? me = null;
        try
        {
            me = await _client.GetAccountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
        {
            throw;
        }
        catch (ScrapeDoException)
        {
            // The estimate still stands without the account's figures.
        }

        int slots = Math.Max(1, me?.TotalConcurrency ?? 1);
        long waves = (targets + slots - 1) / slots;
        TimeSpan duration = RunEstimate.AssumedTaskTime(template.Render is not null) * waves;
        (long Targets, long Credits)? reach = _options.MaxCredits is long max
            ? Internal.Runner.CreditBudget.Reach(targets, _options.MaxTargetsPerJob, perTask, max)
            : null;
        return new RunEstimate(targets, perTask, targets * perTask, me?.AvailableCredits, me?.FreeConcurrency, me?.TotalConcurrency, duration)
        {
            TargetsWithinBudget = reach?.Targets,
            CreditsWithinBudget = reach?.Credits,
        };
    }
}

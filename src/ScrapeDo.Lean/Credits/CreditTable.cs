using System.Text.Json.Serialization;

namespace ScrapeDo.Lean.Credits;

/// <summary>How sure a figure of the <see cref="CreditTable"/> is, as the API reference tags its facts.</summary>
public enum CreditConfidence
{
    /// <summary>Published by Scrape.do.</summary>
    Official,

    /// <summary>Stated by a third party (an SDK, an integration).</summary>
    ThirdParty,

    /// <summary>Assumed from related behaviour; not published for the Async API.</summary>
    Inferred,
}

/// <summary>One figure of the credit table with where it comes from.</summary>
/// <param name="Name">What the figure prices.</param>
/// <param name="Credits">Credits per successful task.</param>
/// <param name="Confidence">How sure the figure is.</param>
/// <param name="Source">Where it was read.</param>
public sealed record CreditFigure(string Name, int Credits, CreditConfidence Confidence, string Source);

/// <summary>
/// The credits one successful task costs, by its options: the one place the runner (estimate, budget) and the
/// emulator (billing) read prices from. Override it with <see cref="RunOptions.CreditTable"/> or
/// <see cref="FromJson(string)"/> for a custom plan or changed prices.
/// </summary>
/// <remarks>
/// Scrape.do publishes the sync API's request costs (1 / 5 / 10 / 25) and says failed requests cost nothing; that
/// the Async API bills each task like the equivalent sync request is inferred (async-api.md §13.4). Some domains
/// and plugins cost more server-side; the <c>Scrape.do-Request-Cost</c> metadata of a task is authoritative.
/// </remarks>
public sealed class CreditTable
{
    private const string RequestCosts = "scrape.do/documentation/request-costs (sync API, consulted 2026-11-28)";

    /// <summary>The published prices.</summary>
    public static CreditTable Default { get; } = new();

    /// <summary>A plain request (datacenter proxy, no browser). Official: 1.</summary>
    [JsonPropertyName("plain")]
    public int Plain { get; init; } = 1;

    /// <summary>With <c>Render</c> (headless browser). Official: 5.</summary>
    [JsonPropertyName("render")]
    public int Render { get; init; } = 5;

    /// <summary>With <c>Super</c> (residential/mobile proxies). Official: 10.</summary>
    [JsonPropertyName("super")]
    public int Super { get; init; } = 10;

    /// <summary>With both <c>Super</c> and <c>Render</c>. Official: 25.</summary>
    [JsonPropertyName("superRender")]
    public int SuperRender { get; init; } = 25;

    /// <summary>
    /// Per-task prices of plugins by key (case-insensitive); a plugin not listed costs what its options cost.
    /// Default: <c>google/trends</c> 10 (documented for the sync plugin).
    /// </summary>
    [JsonPropertyName("plugins")]
    public IReadOnlyDictionary<string, int> Plugins { get; init; } = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        [PluginKeys.GoogleTrends] = 10,
    };

    /// <summary>Every figure of the default table with its confidence and source.</summary>
    public static IReadOnlyList<CreditFigure> Sources { get; } =
    [
        new("plain", 1, CreditConfidence.Official, RequestCosts),
        new("render", 5, CreditConfidence.Official, RequestCosts),
        new("super", 10, CreditConfidence.Official, RequestCosts + "; scrape.do/documentation/proxies/super"),
        new("super+render", 25, CreditConfidence.Official, RequestCosts + "; scrape.do/documentation/proxies/super"),
        new("plugin google/trends", 10, CreditConfidence.Official, "Scrape.do Google Trends plugin docs (sync), async-api.md §10"),
        new("other plugins", 0, CreditConfidence.Inferred, "priced as their options; per-domain prices apply server-side"),
        new("per-domain prices", 0, CreditConfidence.Official, RequestCosts + ": some domains get Super/Render server-side and cost as such; not modelled"),
        new("async task = sync request", 0, CreditConfidence.Inferred, "async-api.md §13.4"),
        new("failed task charged", 0, CreditConfidence.Inferred, RequestCosts + ": only 2xx, 400, 404, 410 are charged (sync); assumed for async"),
    ];

    /// <summary>Credits one successful task of <paramref name="template"/> costs.</summary>
    /// <param name="template">The job's options (<c>Super</c>, <c>Render</c>).</param>
    /// <param name="pluginKey">The plugin key, or null for a URL task.</param>
    public int CostPerTask(CreateJobRequest template, string? pluginKey = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        return CostPerTask(template.Render is not null, template.Super == true, pluginKey ?? template.Plugin?.Key);
    }

    /// <summary>Credits one successful task costs with these options.</summary>
    public int CostPerTask(bool render, bool super, string? pluginKey)
    {
        if (pluginKey is not null && Plugins.TryGetValue(pluginKey, out int price))
        {
            return price;
        }

        return (render, super) switch
        {
            (true, true) => SuperRender,
            (false, true) => Super,
            (true, false) => Render,
            _ => Plain,
        };
    }

    /// <summary>
    /// Whether a finished task is charged, the one place this rule lives. Scrape.do charges only successful results
    /// and counts a target's 2xx, 400, 404 and 410 as successful (official for sync requests); that a task is charged
    /// by the same rule is inferred. A task whose target status is unknown (0) is charged when it succeeded.
    /// </summary>
    /// <param name="succeeded">The task ended <c>success</c> (not <c>error</c>; canceled tasks are never charged).</param>
    /// <param name="statusCode">The target's status code as the task reports it (<c>StatusCode</c>), 0 when unknown.</param>
    public static bool IsCharged(bool succeeded, int statusCode) =>
        statusCode == 0 ? succeeded : statusCode is (>= 200 and < 300) or 400 or 404 or 410;

    /// <summary>Reads a table from JSON, e.g. <c>{"plain":1,"render":5,"super":10,"superRender":25,"plugins":{"google/trends":10}}</c>;
    /// figures left out keep their default.</summary>
    /// <exception cref="FormatException">The JSON is not a valid table.</exception>
    public static CreditTable FromJson(string json) => CreditTableJson.Parse(json);

    /// <summary>Throws unless every price is at least 0.</summary>
    internal void Validate()
    {
        if (Plain < 0 || Render < 0 || Super < 0 || SuperRender < 0)
        {
            throw new FormatException("Credit prices must be 0 or more.");
        }

        foreach (KeyValuePair<string, int> plugin in Plugins)
        {
            if (plugin.Value < 0)
            {
                throw new FormatException($"The price of plugin '{plugin.Key}' must be 0 or more.");
            }
        }
    }
}

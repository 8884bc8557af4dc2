using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>
/// Body of <c>POST /api/v1/jobs</c>: the targets (or a <see cref="Plugin"/>) plus options applied to every task.
/// Unset (null) options are omitted from the request so the API's defaults apply.
/// </summary>
public sealed class CreateJobRequest
{
    /// <summary>Maximum targets (or plugin parameter sets) in one job.</summary>
    public const int MaxTargetsPerJob = 1000;

    /// <summary>Absolute http(s) URLs, one task each, 1 to 1000. Leave null for a plugin job.</summary>
    [JsonPropertyName("Targets")]
    public IReadOnlyList<string>? Targets { get; init; }

    /// <summary>HTTP method used against each target (API default GET).</summary>
    [JsonPropertyName("Method")]
    public TargetMethod? Method { get; init; }

    /// <summary>Raw request body sent to targets for POST/PUT/PATCH.</summary>
    [JsonPropertyName("Body")]
    public string? Body { get; init; }

    /// <summary>Exit country, ISO 3166 alpha-2 (e.g. <c>us</c>). Not combined with <see cref="RegionalGeoCode"/>.</summary>
    [JsonPropertyName("GeoCode")]
    public string? GeoCode { get; init; }

    /// <summary>Exit region (<c>europe</c>, <c>asia</c> …); needs <see cref="Super"/>.</summary>
    [JsonPropertyName("RegionalGeoCode")]
    public string? RegionalGeoCode { get; init; }

    /// <summary>Use the residential/mobile proxy pool (costs more credits).</summary>
    [JsonPropertyName("Super")]
    public bool? Super { get; init; }

    /// <summary>Headers sent to the targets.</summary>
    [JsonPropertyName("Headers")]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Send only <see cref="Headers"/>, replacing the headers Scrape.do would generate.</summary>
    [JsonPropertyName("ForwardHeaders")]
    public bool? ForwardHeaders { get; init; }

    /// <summary>Sticky proxy session id (sent as a JSON string, as the official example does).</summary>
    [JsonPropertyName("SessionID")]
    public string? SessionId { get; init; }

    /// <summary>Device profile (API default desktop).</summary>
    [JsonPropertyName("Device")]
    public DeviceType? Device { get; init; }

    /// <summary>Cookies for the targets, <c>name=value; name2=value2</c>.</summary>
    [JsonPropertyName("SetCookies")]
    public string? SetCookies { get; init; }

    /// <summary>Maximum time of a task's attempt cycle, in milliseconds (bounds are validated by the server).</summary>
    [JsonPropertyName("Timeout")]
    public int? Timeout { get; init; }

    /// <summary>Per-attempt wait before Scrape.do retries with a new proxy, in milliseconds.</summary>
    [JsonPropertyName("RetryTimeout")]
    public int? RetryTimeout { get; init; }

    /// <summary>Make a single attempt per target, without proxy rotation.</summary>
    [JsonPropertyName("DisableRetry")]
    public bool? DisableRetry { get; init; }

    /// <summary>Return the target's status and body as-is.</summary>
    [JsonPropertyName("TransparentResponse")]
    public bool? TransparentResponse { get; init; }

    /// <summary>Do not follow redirects.</summary>
    [JsonPropertyName("DisableRedirection")]
    public bool? DisableRedirection { get; init; }

    /// <summary>Content format (API default raw).</summary>
    [JsonPropertyName("Output")]
    public OutputFormat? Output { get; init; }

    /// <summary>Headless-browser rendering; its presence enables rendering.</summary>
    [JsonPropertyName("Render")]
    public RenderOptions? Render { get; init; }

    /// <summary>Receives a POST of the task details per finished task.</summary>
    [JsonPropertyName("WebhookURL")]
    public string? WebhookUrl { get; init; }

    /// <summary>Headers added to every webhook POST (e.g. a shared secret to verify deliveries).</summary>
    [JsonPropertyName("WebhookHeaders")]
    public IReadOnlyDictionary<string, string>? WebhookHeaders { get; init; }

    /// <summary>A plugin job instead of <see cref="Targets"/>.</summary>
    [JsonPropertyName("Plugin")]
    public PluginRequest? Plugin { get; init; }

    /// <summary>Number of tasks the job will have.</summary>
    [JsonIgnore]
    public int TaskCount => Plugin?.Params.Count ?? Targets?.Count ?? 0;

    /// <summary>A copy with other targets and the same options (the runner chunks large inputs with it).</summary>
    /// <param name="targets">The targets of the copy.</param>
    public CreateJobRequest WithTargets(IReadOnlyList<string> targets) => Copy(targets, null);

    /// <summary>A copy with another plugin request and the same options.</summary>
    /// <param name="plugin">The plugin of the copy.</param>
    public CreateJobRequest WithPlugin(PluginRequest plugin) => Copy(null, plugin);

    /// <summary>
    /// The options that decide what a job scrapes and what it costs, for a run journal's fingerprint: no targets or
    /// plugin (the runner fills them per job), no headers (the fingerprint adds them in ordinal order, since their order
    /// on a command line means nothing), and no webhook URL or headers (they say where the API notifies, not what is
    /// scraped or charged, and a tunnel address or webhook secret may rightly change between an interrupt and its resume).
    /// </summary>
    internal CreateJobRequest JobOptionsForFingerprint() => Copy(null, null, withHeaders: false, withWebhook: false);

    // The one list of the options a copy carries, so a new option cannot be left out of the fingerprint by mistake.
    private CreateJobRequest Copy(IReadOnlyList<string>? targets, PluginRequest? plugin, bool withHeaders = true, bool withWebhook = true) => new()
    {
        Targets = targets,
        Plugin = plugin,
        Method = Method,
        Body = Body,
        GeoCode = GeoCode,
        RegionalGeoCode = RegionalGeoCode,
        Super = Super,
        Headers = withHeaders ? Headers : null,
        ForwardHeaders = ForwardHeaders,
        SessionId = SessionId,
        Device = Device,
        SetCookies = SetCookies,
        Timeout = Timeout,
        RetryTimeout = RetryTimeout,
        DisableRetry = DisableRetry,
        TransparentResponse = TransparentResponse,
        DisableRedirection = DisableRedirection,
        Output = Output,
        Render = Render,
        WebhookUrl = withWebhook ? WebhookUrl : null,
        WebhookHeaders = withWebhook ? WebhookHeaders : null,
    };
}

/// <summary>The <c>Render</c> object: headless-browser options.</summary>
public sealed class RenderOptions
{
    /// <summary>Block images, CSS and fonts while rendering.</summary>
    [JsonPropertyName("BlockResources")]
    public bool? BlockResources { get; init; }

    /// <summary>Navigation event to wait for.</summary>
    [JsonPropertyName("WaitUntil")]
    public WaitUntilEvent? WaitUntil { get; init; }

    /// <summary>Extra wait after load, in milliseconds.</summary>
    [JsonPropertyName("CustomWait")]
    public int? CustomWait { get; init; }

    /// <summary>CSS selector to wait for.</summary>
    [JsonPropertyName("WaitSelector")]
    public string? WaitSelector { get; init; }

    /// <summary>Browser interactions executed in order.</summary>
    [JsonPropertyName("PlayWithBrowser")]
    public IReadOnlyList<BrowserAction>? PlayWithBrowser { get; init; }

    /// <summary>Return a JSON envelope (content, network requests, optional frames and screenshots).</summary>
    [JsonPropertyName("ReturnJSON")]
    public bool? ReturnJson { get; init; }

    /// <summary>Include websocket traffic (needs <see cref="ReturnJson"/>).</summary>
    [JsonPropertyName("ShowWebsocketRequests")]
    public bool? ShowWebsocketRequests { get; init; }

    /// <summary>Include iframe contents (needs <see cref="ReturnJson"/>).</summary>
    [JsonPropertyName("ShowFrames")]
    public bool? ShowFrames { get; init; }

    /// <summary>Viewport screenshot (needs <see cref="ReturnJson"/>). At most one screenshot option per job.</summary>
    [JsonPropertyName("Screenshot")]
    public bool? Screenshot { get; init; }

    /// <summary>Full-page screenshot (needs <see cref="ReturnJson"/>).</summary>
    [JsonPropertyName("FullScreenshot")]
    public bool? FullScreenshot { get; init; }

    /// <summary>Screenshot of the element matching this CSS selector (needs <see cref="ReturnJson"/>).</summary>
    [JsonPropertyName("ParticularScreenshot")]
    public string? ParticularScreenshot { get; init; }
}

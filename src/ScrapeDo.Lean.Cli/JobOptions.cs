using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ScrapeDo.Lean.Internal;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Cli;

/// <summary>One flag per create-job field, shared by <c>run</c> and <c>job create</c>.</summary>
internal sealed class JobOptions
{
    private readonly Option<bool> _super = new("--super") { Description = "Use residential/mobile proxies (Super)." };
    private readonly Option<string?> _geoCode = new Option<string?>("--geo-code") { Description = "Exit country, e.g. us (GeoCode)." }.NonEmpty("a country code, e.g. us");
    private readonly Option<string?> _regionalGeoCode = new Option<string?>("--regional-geo-code") { Description = "Exit region, e.g. europe (RegionalGeoCode)." }.NonEmpty("a region, e.g. europe");
    private readonly Option<string?> _device = CliValidation.OneOf("--device", "desktop, mobile or tablet (Device).", "desktop", "mobile", "tablet");
    private readonly Option<string?> _method = CliValidation.OneOf("--method", "GET, POST, PUT, PATCH, HEAD or DELETE (Method).", "GET", "POST", "PUT", "PATCH", "HEAD", "DELETE");
    private readonly Option<string?> _body = new("--body") { Description = "Request body sent to targets (Body)." };
    private readonly Option<string[]> _header = new("--header") { Description = "Header for the targets, K:V; repeatable (Headers).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> _forwardHeaders = new("--forward-headers") { Description = "Send only the given headers (ForwardHeaders)." };
    private readonly Option<string?> _sessionId = new Option<string?>("--session-id") { Description = "Sticky proxy session (SessionID)." }.NonEmpty("a session id");
    private readonly Option<string?> _setCookies = new Option<string?>("--set-cookies") { Description = "Cookies, 'a=1; b=2' (SetCookies)." }.NonEmpty("cookies, e.g. 'a=1; b=2'");
    private readonly Option<int?> _timeout = CliValidation.Int("--timeout-ms", $"Task timeout in ms, {JobOptionBounds.TimeoutMinMs}-{JobOptionBounds.TimeoutMaxMs} (Timeout).", min: JobOptionBounds.TimeoutMinMs, max: JobOptionBounds.TimeoutMaxMs);
    private readonly Option<int?> _retryTimeout = CliValidation.Int("--retry-timeout-ms", $"Per-attempt wait in ms, {JobOptionBounds.RetryTimeoutMinMs}-{JobOptionBounds.RetryTimeoutMaxMs} (RetryTimeout).", min: JobOptionBounds.RetryTimeoutMinMs, max: JobOptionBounds.RetryTimeoutMaxMs);
    private readonly Option<bool> _disableRetry = new("--disable-retry") { Description = "Single attempt per target (DisableRetry)." };
    private readonly Option<bool> _transparent = new("--transparent-response") { Description = "Target's status and body as-is (TransparentResponse)." };
    private readonly Option<bool> _disableRedirection = new("--disable-redirection") { Description = "Do not follow redirects (DisableRedirection)." };
    private readonly Option<string?> _outputFormat = CliValidation.OneOf("--output-format", "raw or markdown (Output).", "raw", "markdown");
    private readonly Option<bool> _render = new("--render") { Description = "Render with a headless browser (Render; billed as rendering). Every Render.* option turns it on too: the API has no separate switch." };
    private readonly Option<bool> _blockResources = new("--block-resources") { Description = "Render.BlockResources; implies --render." };
    private readonly Option<string?> _waitUntil = CliValidation.OneOf("--wait-until", "domcontentloaded, networkidle0 or networkidle2 (Render.WaitUntil); implies --render.", "domcontentloaded", "networkidle0", "networkidle2");
    private readonly Option<int?> _customWait = CliValidation.Int("--custom-wait-ms", $"Render.CustomWait in ms, 0-{JobOptionBounds.CustomWaitMaxMs}; implies --render.", min: 0, max: JobOptionBounds.CustomWaitMaxMs);
    private readonly Option<string?> _waitSelector = new Option<string?>("--wait-selector") { Description = "Render.WaitSelector; implies --render." }.NonEmpty("a CSS selector");
    private readonly Option<string?> _play = new("--play-with-browser") { Description = "Render.PlayWithBrowser as a JSON array, e.g. '[{\"Action\":\"Click\",\"Selector\":\"#b\"}]'; implies --render." };
    private readonly Option<bool> _returnJson = new("--return-json") { Description = "Render.ReturnJSON; implies --render." };
    private readonly Option<bool> _showWebsocket = new("--show-websocket-requests") { Description = "Render.ShowWebsocketRequests; implies --render." };
    private readonly Option<bool> _showFrames = new("--show-frames") { Description = "Render.ShowFrames; implies --render." };
    private readonly Option<bool> _screenshot = new("--screenshot") { Description = "Render.Screenshot; implies --render." };
    private readonly Option<bool> _fullScreenshot = new("--full-screenshot") { Description = "Render.FullScreenshot; implies --render." };
    private readonly Option<string?> _particularScreenshot = new Option<string?>("--particular-screenshot") { Description = "Render.ParticularScreenshot (CSS selector); implies --render." }.NonEmpty("a CSS selector");
    private readonly Option<string?> _webhookUrl = CliValidation.HttpUrl("--webhook-url", "Webhook receiving each finished task, an absolute http(s) URL (WebhookURL).");
    private readonly Option<string[]> _webhookHeader = new("--webhook-header") { Description = "Webhook header K:V; repeatable (WebhookHeaders)." };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[]
        {
            _super, _geoCode, _regionalGeoCode, _device, _method, _body, _header, _forwardHeaders, _sessionId, _setCookies, _timeout,
            _retryTimeout, _disableRetry, _transparent, _disableRedirection, _outputFormat, _render, _blockResources, _waitUntil,
            _customWait, _waitSelector, _play, _returnJson, _showWebsocket, _showFrames, _screenshot, _fullScreenshot,
            _particularScreenshot, _webhookUrl, _webhookHeader,
        })
        {
            command.Add(option);
        }
    }

    /// <summary>The job options given on the command line, without targets.</summary>
    public CreateJobRequest Template(ParseResult r)
    {
        // The rules the library would otherwise refuse the job for: said here in the user's flags, before anything is
        // sent, rather than as a failed record per target naming the request's properties.
        if (!string.IsNullOrEmpty(r.GetValue(_geoCode)) && !string.IsNullOrEmpty(r.GetValue(_regionalGeoCode)))
        {
            throw new CliException("--geo-code and --regional-geo-code cannot be combined; give one of them.");
        }

        if ((Flag(r, _screenshot) == true ? 1 : 0) + (Flag(r, _fullScreenshot) == true ? 1 : 0) + (string.IsNullOrEmpty(r.GetValue(_particularScreenshot)) ? 0 : 1) > 1)
        {
            throw new CliException("give only one of --screenshot, --full-screenshot and --particular-screenshot.");
        }

        RenderOptions? render = null;
        if (Flag(r, _render) == true || Given(r, _blockResources) || Given(r, _waitUntil) || Given(r, _customWait)
            || Given(r, _waitSelector) || Given(r, _play) || Given(r, _returnJson) || Given(r, _showWebsocket)
            || Given(r, _showFrames) || Given(r, _screenshot) || Given(r, _fullScreenshot) || Given(r, _particularScreenshot))
        {
            render = new RenderOptions
            {
                BlockResources = Flag(r, _blockResources),
                WaitUntil = r.GetValue(_waitUntil) is { } w ? (WaitUntilEvent?)WaitUntilEvent.FromString(w) : null,
                CustomWait = r.GetValue(_customWait),
                WaitSelector = r.GetValue(_waitSelector),
                PlayWithBrowser = r.GetValue(_play) is { } play ? ParseActions(play) : null,
                ReturnJson = Flag(r, _returnJson),
                ShowWebsocketRequests = Flag(r, _showWebsocket),
                ShowFrames = Flag(r, _showFrames),
                Screenshot = Flag(r, _screenshot),
                FullScreenshot = Flag(r, _fullScreenshot),
                ParticularScreenshot = r.GetValue(_particularScreenshot),
            };
        }

        return new CreateJobRequest
        {
            Super = Flag(r, _super),
            GeoCode = r.GetValue(_geoCode),
            RegionalGeoCode = r.GetValue(_regionalGeoCode),
            Device = r.GetValue(_device) is { } d ? (DeviceType?)DeviceType.FromString(d) : null,
            Method = r.GetValue(_method) is { } m ? (TargetMethod?)TargetMethod.FromString(m) : null,
            Body = r.GetValue(_body),
            Headers = Pairs(r.GetValue(_header), "--header"),
            ForwardHeaders = Flag(r, _forwardHeaders),
            SessionId = r.GetValue(_sessionId),
            SetCookies = r.GetValue(_setCookies),
            Timeout = r.GetValue(_timeout),
            RetryTimeout = r.GetValue(_retryTimeout),
            DisableRetry = Flag(r, _disableRetry),
            TransparentResponse = Flag(r, _transparent),
            DisableRedirection = Flag(r, _disableRedirection),
            Output = r.GetValue(_outputFormat) is { } o ? (OutputFormat?)OutputFormat.FromString(o) : null,
            Render = render,
            WebhookUrl = r.GetValue(_webhookUrl),
            WebhookHeaders = Pairs(r.GetValue(_webhookHeader), "--webhook-header"),
        };
    }

    private static bool? Flag(ParseResult r, Option<bool> option) => Given(r, option) ? r.GetValue(option) : null;

    // A bool option always has an implicit result (its default false): only one typed on the command line counts.
    private static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

    private static Dictionary<string, string>? Pairs(string[]? values, string flag)
    {
        if (values is null || values.Length == 0)
        {
            return null;
        }

        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string value in values)
        {
            int colon = value.IndexOf(':');
            if (colon <= 0)
            {
                throw new CliException($"{flag} '{CliValidation.Excerpt(value)}' is not K:V (e.g. {flag} \"Accept-Language:en\").");
            }

            string name = value[..colon].Trim();
            string text = value[(colon + 1)..].Trim();
            if (!IsHeaderName(name))
            {
                throw new CliException($"{flag} '{CliValidation.Excerpt(value)}': '{CliValidation.Excerpt(name)}' is not a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces).");
            }

            if (text.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                throw new CliException($"{flag} '{CliValidation.Excerpt(name)}': the value contains a line break or NUL.");
            }

            pairs[name] = text;
        }

        return pairs;
    }

    // RFC 9110 token characters: what the library's request check accepts as a header name.
    private static bool IsHeaderName(string name) =>
        name.Length > 0 && !name.AsSpan().ContainsAnyExcept(HeaderNameChars);

    private static readonly System.Buffers.SearchValues<char> HeaderNameChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private const string ActionsExample = "e.g. '[{\"Action\":\"Click\",\"Selector\":\"#b\"},{\"Action\":\"Wait\",\"Timeout\":1000}]'";

    // async-api.md §4.4: the actions of the official client's PlayWithBrowser type (the async docs show only Click and
    // Wait). The library can send any name (BrowserAction.Custom); the CLI refuses others, since a typo would otherwise
    // reach the browser as a step that silently does nothing. A new action of the API is one line here.
    private static readonly string[] KnownActions = ["Click", "Wait", "WaitSelector", "ScrollX", "ScrollY", "ScrollTo", "Fill", "Execute", "ScreenShot"];

    private static IReadOnlyList<BrowserAction> ParseActions(string json)
    {
        IReadOnlyList<BrowserAction>? actions;
        try
        {
            actions = JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.IReadOnlyListBrowserAction);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // The serializer's own text names .NET types; where it stopped is what helps.
            string at = ex is JsonException { BytePositionInLine: long position } ? string.Create(CultureInfo.InvariantCulture, $" (stopped at character {position + 1})") : string.Empty;
            throw new CliException($"--play-with-browser is not a JSON array of action objects with text and number fields where they belong{at}; {ActionsExample}.");
        }

        if (actions is null || actions.Count == 0)
        {
            throw new CliException($"--play-with-browser has no actions; {ActionsExample}.");
        }

        for (int i = 0; i < actions.Count; i++)
        {
            BrowserAction a = actions[i];
            string? known = Array.Find(KnownActions, k => string.Equals(k, a.Action, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                throw new CliException($"--play-with-browser action {i + 1}: '{CliValidation.Excerpt(a.Action)}' is not one of {string.Join(", ", KnownActions)}.");
            }

            if (known != a.Action)
            {
                throw new CliException($"--play-with-browser action {i + 1}: write '{known}', not '{CliValidation.Excerpt(a.Action)}' (action names are case-sensitive).");
            }

            string? missing = known switch
            {
                "Click" when string.IsNullOrWhiteSpace(a.Selector) => "\"Selector\" (a CSS selector)",
                "Wait" when a.Timeout is not >= 0 => "\"Timeout\" (milliseconds, 0 or more)",
                "WaitSelector" when string.IsNullOrWhiteSpace(a.WaitSelector) => "\"WaitSelector\" (a CSS selector)",
                "ScrollX" or "ScrollY" when a.NumericValue is null => "\"Value\" (pixels, a number)",
                "ScrollTo" when string.IsNullOrWhiteSpace(a.Selector) && a.NumericValue is null => "\"Selector\" or a numeric \"Value\"",
                "Fill" when string.IsNullOrWhiteSpace(a.Selector) || a.TextValue is null => "\"Selector\" and a text \"Value\"",
                "Execute" when string.IsNullOrWhiteSpace(a.Script) => "\"Execute\" (JavaScript)",
                _ => null,
            };
            if (missing is not null)
            {
                throw new CliException($"--play-with-browser action {i + 1} ({known}) needs {missing}.");
            }
        }

        return actions;
    }
}

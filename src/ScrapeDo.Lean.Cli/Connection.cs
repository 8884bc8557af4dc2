using System.CommandLine;
#if !NO_EMULATOR
using ScrapeDo.Lean.Emulator;
#endif

namespace ScrapeDo.Lean.Cli;

/// <summary>Options every command shares: where the API is and how to authenticate.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Token = new("--token")
    {
        Description = "API token (default: $SCRAPEDO_TOKEN). Never printed.",
        Recursive = true,
    };

    public static readonly Option<string?> BaseUrl = new("--base-url")
    {
        Description = "API base URL (default: $SCRAPEDO_BASE_URL, else https://q.scrape.do). http:// only for loopback hosts.",
        Recursive = true,
    };

    public static readonly Option<bool> Emulate = new("--emulate")
    {
        Description = "Start the local emulator in-process on a free loopback port and use it.",
        Recursive = true,
    };
}

/// <summary>A client plus, with --emulate, the in-process emulator it talks to.</summary>
internal sealed class Connection : IAsyncDisposable
{
#if NO_EMULATOR
    private Connection(ScrapeDoClient client, IAsyncDisposable? emulator, string token)
#else
    private Connection(ScrapeDoClient client, ScrapeDoEmulator? emulator, string token)
#endif
    {
        Client = client;
        Emulator = emulator;
        _token = token;
    }

    private readonly string _token;
    private RetryNotice? _retryNotice;

    public ScrapeDoClient Client { get; }

    /// <summary>The in-process emulator when --emulate is in use.</summary>
    public IAsyncDisposable? Emulator { get; }

    /// <summary>
    /// Resolves token and base URL from options and environment. With <paramref name="emulateWhenNoToken"/> (the
    /// <c>run</c> command) a missing token means the emulator, announced on stderr.
    /// </summary>
    public static async Task<Connection> OpenAsync(ParseResult parse, CliConsole console, bool emulateWhenNoToken, CancellationToken cancellationToken)
    {
        (string? token, string? baseUrl) = Resolve(parse);
        bool emulate = WillEmulate(parse, emulateWhenNoToken);
        RefuseEmulateWithBaseUrl(parse);
        // Parsed before the token is checked, so a mistyped base URL is named as such rather than as a missing token for it.
        Uri? server = emulate ? null : ParseBaseUrl(baseUrl);

        if (!emulate && token is null)
        {
            throw new CliException(baseUrl is null
                ? "no API token: pass --token or set SCRAPEDO_TOKEN (or add --emulate to use the local emulator)."
                : $"no API token for {baseUrl}: pass --token or set SCRAPEDO_TOKEN. An explicit --base-url (or SCRAPEDO_BASE_URL) is never replaced by the local emulator.");
        }

        if (emulate && !parse.GetValue(GlobalOptions.Emulate))
        {
            console.Error.WriteLine("scrapedo: no token configured (--token / SCRAPEDO_TOKEN): running against the local emulator.");
        }

#if NO_EMULATOR
        IAsyncDisposable? emulator = null;
        Uri address;
        if (emulate)
        {
            await Task.CompletedTask.ConfigureAwait(false);
            throw new CliException("this build of scrapedo has no emulator; pass --token (or set SCRAPEDO_TOKEN).");
        }
#else
        ScrapeDoEmulator? emulator = null;
        Uri address;
        if (emulate)
        {
            token ??= EmulatorOptions.DefaultToken;
            emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount(token, "business")] }, cancellationToken).ConfigureAwait(false);
            address = emulator.BaseAddress;
        }
#endif
        else
        {
            address = server!;
        }

        try
        {
            if (token.AsSpan().IndexOfAnyExceptInRange('!', '~') >= 0)
            {
                // The library would refuse it too, naming its own option; the token itself is never echoed.
                throw new CliException("the API token (--token or SCRAPEDO_TOKEN) contains whitespace, control or non-ASCII characters; check how it was copied.");
            }

            var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = token, BaseAddress = address });
            return new Connection(client, emulator, token ?? string.Empty) { _retryNotice = new RetryNotice(client, console.Error, console.ErrorIsTerminal) };
        }
        catch (Exception ex) when (ex is ArgumentException or CliException)
        {
            if (emulator is not null)
            {
                await emulator.DisposeAsync().ConfigureAwait(false);
            }

            throw ex as CliException ?? new CliException(ex.Message.Split(" (Parameter", 2)[0]);
        }
    }

    /// <summary>
    /// Refuses --emulate together with --base-url: two answers to "where is the API", and running against the emulator
    /// while the user named a server would look like a run against that server. (SCRAPEDO_BASE_URL from the environment
    /// is not a conflict: --emulate, given on the command line, is the more specific choice.)
    /// </summary>
    public static void RefuseEmulateWithBaseUrl(ParseResult parse)
    {
        if (parse.GetValue(GlobalOptions.Emulate) && parse.GetValue(GlobalOptions.BaseUrl) is { } ignored)
        {
            throw new CliException($"--emulate and --base-url '{CliValidation.Excerpt(ignored)}' both say where the API is: leave one of them out.");
        }
    }

    /// <summary>
    /// Whether the command will run against the in-process emulator: --emulate, or (for <c>run</c>) neither a token nor
    /// a base URL. A base URL without a token is a configuration error, never a silent switch to the emulator.
    /// </summary>
    public static bool WillEmulate(ParseResult parse, bool emulateWhenNoToken)
    {
        (string? token, string? baseUrl) = Resolve(parse);
        return parse.GetValue(GlobalOptions.Emulate) || (emulateWhenNoToken && token is null && baseUrl is null);
    }

    private static (string? Token, string? BaseUrl) Resolve(ParseResult parse)
    {
        // An empty flag is a mistake (an unset shell variable, say), never "fall back to the environment".
        if (parse.GetValue(GlobalOptions.Token) is { } given && string.IsNullOrWhiteSpace(given))
        {
            throw new CliException("--token is empty: give the API token, or leave --token out to use SCRAPEDO_TOKEN.");
        }

        if (parse.GetValue(GlobalOptions.BaseUrl) is { } url && string.IsNullOrWhiteSpace(url))
        {
            throw new CliException("--base-url is empty: give the API's base URL (e.g. https://q.scrape.do), or leave --base-url out for the default.");
        }

        return (parse.GetValue(GlobalOptions.Token) ?? NullIfEmpty(Environment.GetEnvironmentVariable("SCRAPEDO_TOKEN")),
            parse.GetValue(GlobalOptions.BaseUrl) ?? NullIfEmpty(Environment.GetEnvironmentVariable("SCRAPEDO_BASE_URL")));
    }

    public async ValueTask DisposeAsync()
    {
        if (_retryNotice is not null)
        {
            await _retryNotice.DisposeAsync().ConfigureAwait(false);
        }

        Client.Dispose();
        if (Emulator is not null)
        {
            await Emulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Uri ParseBaseUrl(string? baseUrl)
    {
        if (baseUrl is null)
        {
            return ScrapeDoClientOptions.DefaultBaseAddress;
        }

        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out Uri? uri))
        {
            throw new CliException($"--base-url (or SCRAPEDO_BASE_URL) '{CliValidation.Excerpt(baseUrl)}' is not an absolute URL (e.g. https://q.scrape.do).");
        }

        try
        {
            ScrapeDoClientOptions.ValidateBaseAddress(uri);
        }
        catch (ArgumentException ex)
        {
            throw new CliException($"--base-url (or SCRAPEDO_BASE_URL): {ex.Message.Split(" (Parameter", 2)[0]}");
        }

        return uri;
    }

    /// <summary>
    /// The one wording, for every command, of a call that failed at the network level or timed out: the base URL as
    /// configured, the host:port that was dialled, how many attempts, and the innermost cause, which is what says what
    /// went wrong ("Connection refused", the certificate problem); the outer ones say "see inner exception".
    /// </summary>
    public CliException Unreachable(ScrapeDoException ex)
    {
        Uri address = Client.BaseAddress;
        string endpoint = $"{address.Host}:{address.Port}";
        string attempts = ex.Attempts == 1 ? "1 attempt" : $"{ex.Attempts} attempts";
        string what;
        if (ex is ScrapeDoTimeoutException timeout)
        {
            what = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{endpoint} did not answer within {timeout.AttemptTimeout.TotalSeconds:0.#} s ({attempts})");
        }
        else
        {
            bool tls = false;
            string? cause = null;
            for (Exception? e = ex.InnerException; e is not null; e = e.InnerException)
            {
                tls |= e is System.Security.Authentication.AuthenticationException;
                if (!string.IsNullOrWhiteSpace(e.Message) && !e.Message.Contains("inner exception", StringComparison.OrdinalIgnoreCase))
                {
                    cause = e.Message.Trim();
                }
            }

            // HttpRequestException appends the endpoint, which this wording names already.
            cause = (cause ?? "the connection failed").Replace($" ({endpoint})", string.Empty, StringComparison.Ordinal).TrimEnd('.');
            cause = ScrapeDo.Lean.Internal.TokenScrubber.Scrub(cause, _token);

            what = $"{(tls ? "the TLS handshake with" : "connecting to")} {endpoint} failed ({attempts}): {cause}";
        }

        return new CliException($"cannot reach the API at {address}: {what}. Check --base-url and the network.");
    }

    /// <summary>Whether <paramref name="ex"/> is a failure to reach the API at all (network or timeout), not an answer.</summary>
    public static bool IsUnreachable(ScrapeDoException ex) => ex is ScrapeDoTransportException or ScrapeDoTimeoutException;

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

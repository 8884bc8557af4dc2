using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal.Http;

namespace ScrapeDo.Lean.Cli;

/// <summary>The command tree and the error policy: one clear line on stderr, never a stack trace.</summary>
internal static class CliApp
{
    /// <summary>How long an interrupted command may take to cancel server jobs and flush before the process ends anyway.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        if (args is ["help", .. var rest])
        {
            // `scrapedo help [command…]` is what many users type first: the same as `scrapedo [command…] --help`.
            args = [.. rest, "--help"];
        }

        var root = new RootCommand("""
            scrapedo: the Scrape.do Async API from the shell, with a built-in local emulator.

            Configuration: --token or SCRAPEDO_TOKEN; --base-url or SCRAPEDO_BASE_URL (default https://q.scrape.do).
            --emulate (any command) runs against an in-process emulator; `run` does so by itself when no token is set.
            """);
        // The client options belong to the commands that talk to the API, not to the root: the emulator command has
        // a --token of its own with another meaning, and its help must not list the client's.
        Command run = new RunCommand(console).Build();
        foreach (Command client in new[] { run, ApiCommands.Job(console), ApiCommands.Task(console), ApiCommands.Account(console) })
        {
            client.Add(GlobalOptions.Token);
            client.Add(GlobalOptions.BaseUrl);
            client.Add(GlobalOptions.Emulate);
            root.Add(client);
        }

#if !NO_EMULATOR
        root.Add(EmulatorCommand.Build(console));
#endif
        if (root.Options.OfType<System.CommandLine.Help.HelpOption>().FirstOrDefault() is { Action: System.CommandLine.Invocation.SynchronousCommandLineAction standard } helpOption)
        {
            helpOption.Action = new RootHelp(standard, console, root, run);
        }

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !IsHelpRequest(args))
        {
            // The parser's own report prints the whole help and can name .NET types; a usage error is one line.
            // "Unrecognized command or argument 'x'" says more than the "Required command was not provided" that comes with it.
            System.CommandLine.Parsing.ParseError first = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            // The hint on the same line, so a script reading the first line of stderr gets both (README: one line).
            console.Error.WriteLine($"scrapedo: error: {UsageMessage(first.Message)} See 'scrapedo {CommandPath(parse)}--help' for the options.");
            return ExitCodes.Fatal;
        }

        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            // Ctrl-C and SIGTERM are handled by Program (to tell them apart for the exit code) and arrive as the
            // cancellation of the token passed in; the command then has StopGrace to cancel server jobs and flush.
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Last line of defence: whatever escaped the commands is still one line, not a stack trace.
            console.Error.WriteLine($"scrapedo: error: {ex.Message}");
            return ExitCodes.Fatal;
        }
    }

    private static bool IsHelpRequest(string[] args) => Array.Exists(args, a => a is "--help" or "-h" or "-?");

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = parse.CommandResult; r is System.CommandLine.Parsing.CommandResult c && c.Parent is not null; r = r.Parent)
        {
            names.Insert(0, c.Command.Name);
        }

        return names.Count == 0 ? string.Empty : string.Join(' ', names) + " ";
    }

    /// <summary>The parser's messages, with any wording that names a .NET type replaced by the user's terms.</summary>
    internal static string UsageMessage(string message)
    {
        // "Cannot parse argument 'X' for option '--y' as expected type 'System.…'." (no Regex: it would grow the AOT binary)
        const string Head = "Cannot parse argument '", Middle = "' for option '", Tail = "' as expected type";
        int middle = message.IndexOf(Middle, StringComparison.Ordinal);
        int tail = message.IndexOf(Tail, StringComparison.Ordinal);
        if (!message.StartsWith(Head, StringComparison.Ordinal) || middle < Head.Length || tail < middle)
        {
            return message;
        }

        string value = message[Head.Length..middle];
        string name = message[(middle + Middle.Length)..tail];
        return $"{name}: '{CliValidation.Excerpt(value)}' is not a valid value.";
    }

    /// <summary>Runs a command body and maps every failure to one line and an exit code.</summary>
    public static async Task<int> Guard(CliConsole console, Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            console.Error.WriteLine("scrapedo: interrupted.");
            return ExitCodes.Interrupted;
        }
        catch (CliException ex)
        {
            console.Error.WriteLine($"scrapedo: error: {ex.Message}");
        }
        catch (ScrapeDoApiException ex) when (ex.IsUnauthorized)
        {
            console.Error.WriteLine("scrapedo: error: the API refused the token (401 Unauthorized). Check --token or SCRAPEDO_TOKEN.");
        }
        catch (ScrapeDoApiException ex) when (!ex.IsMalformedResponse)
        {
            console.Error.WriteLine($"scrapedo: error: {Refused(ex)}");
        }
        catch (ScrapeDoException ex)
        {
            console.Error.WriteLine($"scrapedo: error: {ex.Message}");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            console.Error.WriteLine($"scrapedo: error: {ex.Message.Split(" (Parameter", 2)[0]}");
        }

        return ExitCodes.Fatal;
    }

    /// <summary>
    /// An answer of the API that refused a call, in the user's terms: what was asked, the status as HTTP names it, and
    /// the API's own error text (the library's message names its method instead).
    /// </summary>
    internal static string Refused(ScrapeDoApiException ex)
    {
        string what = ex.Operation switch
        {
            ScrapeDoOperation.CreateJob => "creating the job",
            ScrapeDoOperation.GetJob => $"reading job {ex.JobId}",
            ScrapeDoOperation.GetTask => $"reading task {ex.TaskId} of job {ex.JobId}",
            ScrapeDoOperation.CancelJob => $"canceling job {ex.JobId}",
            ScrapeDoOperation.ListJobs => "listing jobs",
            _ => "reading the account",
        };
        int code = (int)ex.StatusCode;
        string status = HttpStatusText.Of(ex.StatusCode);
        string reason = ex.ErrorText is { Length: > 0 } text ? text.Trim().TrimEnd('.')
            : ex.BodyExcerpt is { Length: > 0 } body ? CliValidation.Excerpt(body.Trim(), 200)
            : "no reason given";
        // What the status means for this call, where async-api.md says it (406, 404 and 410 are the ones users meet).
        string hint = (ex.Operation, code) switch
        {
            (ScrapeDoOperation.CancelJob, 406) => " (a job that already finished or was canceled cannot be canceled)",
            (ScrapeDoOperation.GetJob or ScrapeDoOperation.GetTask or ScrapeDoOperation.CancelJob, 404) => " (no such job or task for this token)",
            (ScrapeDoOperation.GetTask, 410) => " (the task's content is past its retention and no longer kept)",
            _ => string.Empty,
        };
        return $"the API refused {what} ({status}): {reason}{hint}.";
    }

    /// <summary>
    /// One cheap call before a run, so a wrong token or an unreachable server fails at once with one line instead of
    /// after a run's worth of retries.
    /// </summary>
    public static async Task PreflightAsync(Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Client.GetAccountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ScrapeDoException ex) when (Connection.IsUnreachable(ex))
        {
            throw connection.Unreachable(ex);
        }
    }

    // A command's answer is all it prints to standard output. When that write fails (a full disk, a device error) the
    // error says which write failed, as run's records and job list do, not just the system's "No space left on device".
    private static void WriteAnswer(CliConsole console, MemoryStream utf8)
    {
        try
        {
            console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(utf8.GetBuffer(), 0, (int)utf8.Length));
            console.Out.Flush();
        }
        catch (IOException ex)
        {
            throw new CliException($"writing the answer to standard output failed: {CliValidation.Why(ex)}.");
        }
    }

    private static readonly JsonWriterOptions PrintOptions = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Prints an API object as indented JSON, through the source-generated contract.</summary>
    public static void PrintJson<T>(CliConsole console, T value, JsonTypeInfo<T> typeInfo)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, PrintOptions))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        WriteAnswer(console, stream);
    }

    /// <summary>Prints an API object like <see cref="PrintJson{T}"/> but without one top-level property (e.g. a content written elsewhere).</summary>
    public static void PrintJsonWithout<T>(CliConsole console, T value, JsonTypeInfo<T> typeInfo, string leftOut)
    {
        using JsonDocument document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, PrintOptions))
        {
            writer.WriteStartObject();
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!property.NameEquals(leftOut))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        WriteAnswer(console, stream);
    }
}

/// <summary>
/// <c>scrapedo --help</c>: the standard help lists every command with its whole description (examples and exit codes
/// included) and labels each with its arguments as if required ("run &lt;input&gt;", while run reads stdin without
/// one). The root's page lists one line per command instead; each command's own help is the standard one.
/// </summary>
internal sealed class RootHelp(System.CommandLine.Invocation.SynchronousCommandLineAction standard, CliConsole console, RootCommand root, Command run)
    : System.CommandLine.Invocation.SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => standard.ClearsParseErrors;

    public override int Invoke(ParseResult parseResult)
    {
        if (parseResult.CommandResult.Command != root)
        {
            return standard.Invoke(parseResult);
        }

        TextWriter o = console.Out;
        o.WriteLine("Description:");
        foreach (string line in (root.Description ?? string.Empty).Split('\n'))
        {
            o.WriteLine(line.Trim().Length == 0 ? string.Empty : "  " + line.TrimEnd());
        }

        o.WriteLine();
        o.WriteLine("Usage:");
        o.WriteLine("  scrapedo [command] [options]");
        o.WriteLine();
        o.WriteLine("Options:");
        o.WriteLine("  -?, -h, --help  Show help and usage information");
        o.WriteLine("  --version       Show version information");
        o.WriteLine();
        o.WriteLine("Commands:");
        var rows = root.Subcommands.Where(c => !c.Hidden).Select(c => (Label: c == run ? "run [FILE|-]" : c.Name, Text: (c.Description ?? string.Empty).Split('\n')[0].Trim())).ToList();
        int width = rows.Max(r => r.Label.Length) + 2;
        foreach ((string label, string text) in rows)
        {
            o.WriteLine($"  {label.PadRight(width)}{text}");
        }

        o.WriteLine();
        o.WriteLine("Run 'scrapedo COMMAND --help' for a command's options and examples.");
        return 0;
    }
}


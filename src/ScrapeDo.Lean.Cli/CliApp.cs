using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ScrapeDo.Lean.Cli;

/// <summary>The command tree and the error policy: one clear line on stderr, never a stack trace.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("""
            scrapedo: the Scrape.do Async API from the shell, with a built-in local emulator.

            Configuration: --token or SCRAPEDO_TOKEN; --base-url or SCRAPEDO_BASE_URL (default https://q.scrape.do).
            --emulate (any command) runs against an in-process emulator; `run` does so by itself when no token is set.
            """);
        root.Add(GlobalOptions.Token);
        root.Add(GlobalOptions.BaseUrl);
        root.Add(GlobalOptions.Emulate);
        root.Add(new RunCommand(console).Build());
        root.Add(ApiCommands.Job(console));
        root.Add(ApiCommands.Task(console));
        root.Add(ApiCommands.Account(console));
#if !NO_EMULATOR
        root.Add(EmulatorCommand.Build(console));
#endif

        ParseResult parse = root.Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
            // Ctrl-C cancels the action's token; the action then has this long to cancel server jobs and flush.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(15),
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
    /// One cheap call before a run, so a wrong token or an unreachable server fails at once with one line instead of
    /// after a run's worth of retries.
    /// </summary>
    public static async Task PreflightAsync(Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Client.GetAccountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ScrapeDoException ex) when (ex is ScrapeDoTransportException or ScrapeDoTimeoutException)
        {
            throw new CliException($"cannot reach the API at {connection.Client.BaseAddress}: {(ex.InnerException ?? ex).Message} Check --base-url and the network.");
        }
    }

    /// <summary>Prints an API object as indented JSON, through the source-generated contract.</summary>
    public static void PrintJson<T>(CliConsole console, T value, JsonTypeInfo<T> typeInfo)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length));
    }
}

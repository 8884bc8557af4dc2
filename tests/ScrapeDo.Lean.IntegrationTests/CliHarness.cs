using System.Text;
using ScrapeDo.Lean.Cli;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>What one in-process CLI invocation printed: its exit code, standard output (text and JSONL records) and standard error.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error);

/// <summary>Runs the CLI in-process with string writers for the console, as every CLI test does.</summary>
internal static class CliHarness
{
    public static Task<CliResult> RunAsync(params string[] args) => RunWithStdinAsync(string.Empty, stdinIsTerminal: false, args);

    /// <summary>Runs with <paramref name="stdin"/> as standard input, which the CLI takes for a terminal when <paramref name="stdinIsTerminal"/>.</summary>
    public static Task<CliResult> RunWithStdinAsync(string stdin, bool stdinIsTerminal, params string[] args) => RunAsync(stdin, stdinIsTerminal, stdinFile: null, args);

    /// <summary>Runs with standard input redirected from <paramref name="stdinFile"/> (as far as the CLI can tell), which
    /// holds <paramref name="stdin"/>.</summary>
    public static Task<CliResult> RunWithStdinFromFileAsync(string stdinFile, string stdin, params string[] args) => RunAsync(stdin, stdinIsTerminal: false, stdinFile, args);

    private static async Task<CliResult> RunAsync(string stdin, bool stdinIsTerminal, string? stdinFile, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var stdoutStream = new MemoryStream();
        var console = new CliConsole(stdout, stderr, () => new MemoryStream(Encoding.UTF8.GetBytes(stdin)), () => stdoutStream, ErrorIsTerminal: false, InputIsTerminal: stdinIsTerminal, StdinFile: () => stdinFile);
        int code = await CliApp.RunAsync(args, console, Support.Timeout(120));
        return new CliResult(code, stdout + Encoding.UTF8.GetString(stdoutStream.ToArray()), stderr.ToString());
    }
}

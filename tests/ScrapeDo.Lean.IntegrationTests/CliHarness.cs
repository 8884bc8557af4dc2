using System.Text;
using ScrapeDo.Lean.Cli;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>What one in-process CLI invocation printed: its exit code, standard output (text and JSONL records) and standard error.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error);

/// <summary>Runs the CLI in-process with string writers for the console, as every CLI test does.</summary>
internal static class CliHarness
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var stdoutStream = new MemoryStream();
        var console = new CliConsole(stdout, stderr, () => new MemoryStream(), () => stdoutStream, ErrorIsTerminal: false);
        int code = await CliApp.RunAsync(args, console, Support.Timeout(120));
        return new CliResult(code, stdout + Encoding.UTF8.GetString(stdoutStream.ToArray()), stderr.ToString());
    }
}

using System.Runtime.InteropServices;
using ScrapeDo.Lean.Cli;

// The parser turns SIGTERM and Ctrl-C alike into cancellation; this only notes which it was, for the exit code.
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => ExitCodes.MarkTerminated());

return ExitCodes.ForProcess(await CliApp.RunAsync(args, new CliConsole(Console.Out, Console.Error, Console.OpenStandardInput, Console.OpenStandardOutput, !Console.IsErrorRedirected)));

using System.Runtime.InteropServices;
using ScrapeDo.Lean.Cli;

// Ctrl-C and SIGTERM both stop the command cleanly (server jobs canceled, records flushed, journal closed) through one
// token. They are handled here rather than by the parser so that which signal it was is known before anything reacts
// to the cancellation: SIGTERM exits 143, Ctrl-C 130. A second signal, or a command that takes longer than the grace
// period to stop, ends the process the default way, except that a repeat within a second is the same interrupt
// delivered twice: GNU timeout, and supervisors like it, signal the child and then its whole process group, and
// treating that echo as "stop now" killed the run before it could cancel its server jobs or write its summary.
const long RepeatWindowMs = 1000;
long firstSignalAt = 0;
using var interrupt = new CancellationTokenSource();
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => OnSignal(context, terminate: false));
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => OnSignal(context, terminate: true));

return ExitCodes.ForProcess(await CliApp.RunAsync(args, new CliConsole(Console.Out, Console.Error, Console.OpenStandardInput, CliConsole.OpenStandardOutput, !Console.IsErrorRedirected, !Console.IsInputRedirected, CliValidation.StandardInputFile), interrupt.Token));

void OnSignal(PosixSignalContext context, bool terminate)
{
    if (interrupt.IsCancellationRequested)
    {
        if (Environment.TickCount64 - Interlocked.Read(ref firstSignalAt) < RepeatWindowMs)
        {
            context.Cancel = true;
        }

        return;
    }

    Interlocked.Exchange(ref firstSignalAt, Environment.TickCount64);
    if (terminate)
    {
        ExitCodes.MarkTerminated();
    }

    context.Cancel = true;
    _ = Task.Delay(CliApp.StopGrace).ContinueWith(_ =>
    {
        // Said before the hard exit, so a stop that took the whole grace period is not mistaken for a crash; but only
        // waited for briefly: the command may be stuck writing to a stderr nobody reads, and the exit must happen.
        Task.Run(() => Console.Error.WriteLine($"scrapedo: did not stop within {CliApp.StopGrace.TotalSeconds:0} s of the interrupt; exiting."))
            .Wait(TimeSpan.FromMilliseconds(500));
        Environment.Exit(ExitCodes.ForProcess(ExitCodes.Interrupted));
    }, TaskScheduler.Default);
    interrupt.Cancel();
}

namespace ScrapeDo.Lean.Cli;

/// <summary>Where the CLI reads and writes; tests give it files and string writers instead of the terminal.</summary>
/// <param name="Out">Text output (API JSON, help).</param>
/// <param name="Error">Diagnostics, progress and the summary.</param>
/// <param name="OpenStdin">Opens standard input, for <c>run -</c>.</param>
/// <param name="OpenStdout">Opens standard output as a stream, for JSONL records.</param>
/// <param name="ErrorIsTerminal">Whether live progress can be drawn on <paramref name="Error"/>.</param>
/// <param name="InputIsTerminal">Whether standard input is a terminal (nothing piped in): reading it would wait for typing.</param>
/// <param name="StdinFile">The file standard input is redirected from, when it is one and the system says
/// (<see cref="CliValidation.StandardInputFile"/>); null when unknown.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, Func<Stream> OpenStdin, Func<Stream> OpenStdout, bool ErrorIsTerminal, bool InputIsTerminal = false, Func<string?>? StdinFile = null)
{
    // The shared rule of `run` and `job create` for standard input: with no input argument it is read only when something
    // is piped in, since a terminal would wait silently for typing; '-' reads it even from a terminal, after saying so.

    /// <summary>Refuses, before anything is opened or sent, to read a terminal nobody asked to read.</summary>
    public void RefuseUnaskedTerminalInput(bool inputGiven, string whatToPass)
    {
        if (InputIsTerminal && !inputGiven)
        {
            throw new CliException($"no input, and nothing is piped in: {whatToPass}");
        }
    }

    /// <summary>Opens standard input, saying how to end it when it is the terminal.</summary>
    public Stream OpenInput()
    {
        if (InputIsTerminal)
        {
            Error.WriteLine("scrapedo: reading the input from the terminal, one per line; end it with Ctrl-D (Ctrl-Z then Enter on Windows).");
        }

        return OpenStdin();
    }

    /// <summary>
    /// Standard output as a stream for JSONL records that reports a reader which went away. .NET's console stream
    /// ignores a broken pipe on Unix (so <c>scrapedo run … -o - | head</c> would keep creating jobs and spending
    /// credits for a reader that left); a file stream over descriptor 1 fails the write instead, and the run stops
    /// as on a full disk. It is used only where it behaves as the console's stream otherwise does:
    /// <list type="bullet">
    /// <item>where descriptor 1 cannot seek (a pipe, a socket, a terminal): on a regular file a file stream writes at
    /// positions of its own and leaves the descriptor's shared offset where it was, so in
    /// <c>{ scrapedo run …; echo done; } &gt; out.jsonl</c> the next writer would overwrite the records (and a file
    /// has no reader to lose);</item>
    /// <item>where descriptor 1 is open and blocking, as Linux's <c>/proc/self/fdinfo/1</c> says: on a non-blocking
    /// one (another process sharing it set O_NONBLOCK) the console's stream waits for room and retries, a file
    /// stream fails with EAGAIN, possibly after writing part of a batch.</item>
    /// </list>
    /// Elsewhere (other systems, Windows, no descriptor 1), the console's stream, as before.
    /// </summary>
    public static Stream OpenStandardOutput()
    {
        if (OperatingSystem.IsLinux() && IsOpenAndBlocking(ReadFdInfo()))
        {
            try
            {
                var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
                if (!stream.CanSeek)
                {
                    return stream;
                }

                stream.Dispose();
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // Not usable as a file stream: the console's stream below.
            }
        }

        return Console.OpenStandardOutput();
    }

    private static string? ReadFdInfo()
    {
        try
        {
            return File.ReadAllText("/proc/self/fdinfo/1");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // No descriptor 1, or no /proc.
        }
    }

    /// <summary>
    /// Whether an fdinfo text (<c>/proc/self/fdinfo/N</c>: a <c>flags:</c> line with the open flags in octal)
    /// describes a descriptor without O_NONBLOCK. Null or unreadable text is false: nothing is known.
    /// </summary>
    internal static bool IsOpenAndBlocking(string? fdinfo)
    {
        const int NonBlocking = 0x800; // O_NONBLOCK on Linux (04000 octal) for x86-64, arm64 and arm.
        foreach (string line in (fdinfo ?? string.Empty).Split('\n'))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                string octal = line["flags:".Length..].Trim();
                try
                {
                    return octal.Length > 0 && (Convert.ToInt64(octal, 8) & NonBlocking) == 0;
                }
                catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
                {
                    return false;
                }
            }
        }

        return false;
    }
}

/// <summary>A failure the user can fix, reported as one line and exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);

/// <summary>Exit codes of the CLI contract.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Fatal = 1;
    public const int SomeFailed = 2;
    public const int Interrupted = 130;

    /// <summary>128 + SIGTERM: how a process stopped by a service manager reports it.</summary>
    public const int Terminated = 143;

    private static int s_terminated;

    /// <summary>
    /// The process's exit code for a command's <paramref name="code"/>: an interrupt is 143 when SIGTERM caused it,
    /// 130 for Ctrl-C. Decided when the process exits, because the parser's own SIGTERM handler may cancel the
    /// command before ours has noted the signal.
    /// </summary>
    public static int ForProcess(int code) => code == Interrupted && Volatile.Read(ref s_terminated) != 0 ? Terminated : code;

    /// <summary>Records that the interrupt came from SIGTERM (the cancellation itself is the parser's).</summary>
    public static void MarkTerminated() => Volatile.Write(ref s_terminated, 1);
}

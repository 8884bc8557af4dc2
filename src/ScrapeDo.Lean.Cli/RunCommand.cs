using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using ScrapeDo.Lean.Credits;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Cli;

/// <summary><c>scrapedo run</c>: the runner behind a command.</summary>
internal sealed class RunCommand
{
    private readonly Argument<string?> _input = new("input") { Description = "File with one URL per line (or one JSON params object per line with --plugin); '-' for stdin, which is also read when nothing is given and stdin is piped. Blank lines and lines starting with # are skipped.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string?> _plugin = new Option<string?>("--plugin") { Description = "Run this plugin (e.g. amazon/pdp, google/search); each input line is a JSON params object." }.NonEmpty("a plugin key (e.g. amazon/pdp)");
    private readonly Option<string?> _output = new Option<string?>("--output", "-o") { Description = "Write JSONL records to this file (default, or '-': stdout)." }.NonEmpty("a file path (or '-' for stdout)");
    private readonly Option<string?> _contentDir = new Option<string?>("--content-dir") { Description = "Write each task's decoded content to a file in this folder; records then carry contentFile instead of content." }.NonEmpty("a folder path");
    private readonly Option<string?> _journal = new Option<string?>("--journal") { Description = "Crash-safe journal of the run; with --resume the same command continues after an interruption." }.NonEmpty("a file path");
    private readonly Option<bool> _resume = new("--resume") { Description = "Continue the run in --journal, appending the missing records to --output. Never creates a job twice." };
    private readonly Option<int?> _maxJobs = CliValidation.Int("--max-in-flight-jobs", "Jobs open at once, 1-1000 (default: from the account's concurrency, 2-16).", min: 1, max: 1000);
    private readonly Option<int?> _chunk = CliValidation.Int("--targets-per-job", "Targets per job, 1-1000 (default 1000).", min: 1, max: CreateJobRequest.MaxTargetsPerJob);
    private readonly Option<bool> _quiet = new("--quiet", "-q") { Description = "No progress and no summary on stderr." };
    private readonly Option<bool> _noCancel = new("--no-cancel-on-exit") { Description = "On Ctrl-C leave server jobs running (a later --resume collects them)." };
    /// <summary>Why a run of the in-process emulator is not resumable, and what is.</summary>
    internal const string EmulatorNotResumable = "A run of the in-process emulator cannot be resumed (its jobs ended with it); for resumable local runs start 'scrapedo emulator' and point the run at it with --base-url and --token.";

    private const string StdinHint = "give a FILE with one URL per line (or JSON params with --plugin), or pipe the lines in (e.g. cat urls.txt | scrapedo run -); '-' also reads what is typed at the terminal.";
    private readonly JobOptions _jobOptions = new();
    private readonly CostOptions _cost = new();
    private readonly CliConsole _console;

    public RunCommand(CliConsole console) => _console = console;

    public Command Build()
    {
        var command = new Command("run", """
            Scrape every target in FILE (or stdin) through the Async API and write one JSONL record per input line.

            Examples:
              scrapedo run urls.txt --emulate
              scrapedo run urls.txt -o results.jsonl --journal run.journal
              scrapedo run urls.txt -o results.jsonl --journal run.journal --resume
              scrapedo run asins.jsonl --plugin amazon/pdp --geo-code us -o products.jsonl
              cat urls.txt | scrapedo run - --render --content-dir pages/

            Exit codes: 0 all succeeded, 2 some did not, 1 usage/configuration/fatal error, 3 stopped at the credit budget or out of credits (resumable), 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).
            """);
        command.Add(_input);
        foreach (Option option in new Option[] { _plugin, _output, _contentDir, _journal, _resume, _maxJobs, _chunk, _quiet, _noCancel })
        {
            command.Add(option);
        }

        _jobOptions.AddTo(command);
        _cost.AddTo(command);
        command.SetAction((parse, ct) => CliApp.Guard(_console, () => ExecuteAsync(parse, ct), ct));
        return command;
    }

    private async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        bool inputGiven = parse.GetValue(_input) is not null;
        string input = parse.GetValue(_input) ?? "-";
        string? plugin = parse.GetValue(_plugin);
        // "-o -" is stdout, as "-" is stdin for the input (it wrote a file named "-" before).
        bool outputToStdout = parse.GetValue(_output) == "-";
        string? output = outputToStdout ? null : parse.GetValue(_output);
        string? journal = parse.GetValue(_journal);
        bool resume = parse.GetValue(_resume);
        bool quiet = parse.GetValue(_quiet);
        _console.RefuseUnaskedTerminalInput(inputGiven, StdinHint);
        if (resume && outputToStdout)
        {
            throw new CliException("--resume needs --output to be the file of the interrupted run: stdout ('-o -') cannot be read back to see what was written.");
        }

        if (resume && (journal is null || output is null))
        {
            throw new CliException("--resume needs the --journal and --output of the interrupted run.");
        }

        // A journal is only ever read by --resume, which needs the records in a file to check and append to: one kept
        // beside records on stdout could never be resumed, and would only make a later --resume refuse.
        if (!resume && journal is not null && output is null)
        {
            throw new CliException($"--journal needs --output FILE: a resume reads back and appends to the records file, which standard output cannot be (e.g. -o results.jsonl --journal {journal}).");
        }

        // Before the resume's own refusal below, which would point a user who already gave --base-url to it.
        Connection.RefuseEmulateWithBaseUrl(parse);
        // The in-process emulator's jobs end with this process: a journal of its run records it, but no resume can
        // continue it, so no message of such a run may say that one would.
        bool emulated = Connection.WillEmulate(parse, emulateWhenNoToken: true);
        bool resumable = journal is not null && !emulated;
        if (resume && emulated)
        {
            throw new CliException("--resume cannot continue a run of the in-process emulator: its jobs ended with the process that ran them. " +
                "For resumable local runs start 'scrapedo emulator' and point the run at it with --base-url and --token.");
        }

        // Opening --output truncates it and a new journal is written over: naming the input (or each other) would
        // destroy the targets or the run's record before a single line was read. Standard input redirected from a
        // file is that file.
        string? inputFile = input != "-" ? input : _console.StdinFile?.Invoke();
        if (output is not null && inputFile is not null && CliValidation.SameFile(output, inputFile))
        {
            throw new CliException($"--output '{output}' is the input file{(input == "-" ? " (standard input reads it)" : "")}: writing the records would erase the targets. Write them to another file.");
        }

        if (journal is not null && inputFile is not null && CliValidation.SameFile(journal, inputFile))
        {
            throw new CliException($"--journal '{journal}' is the input file{(input == "-" ? " (standard input reads it)" : "")}. Give the journal its own file.");
        }

        if (journal is not null && output is not null && CliValidation.SameFile(journal, output))
        {
            throw new CliException($"--journal and --output name the same file '{output}'. Give each its own file.");
        }

        if (journal is not null && Directory.Exists(journal))
        {
            throw new CliException($"--journal '{journal}' is a folder; give the journal a file of its own (e.g. run.journal).");
        }

        if (output is not null && Directory.Exists(output))
        {
            throw new CliException($"--output '{output}' is a folder; give a file for the records (e.g. results.jsonl).");
        }

        // --content-dir is created if missing (before --output is opened), so a file in it does not need it to exist yet.
        string? contentFolder = parse.GetValue(_contentDir) is { } contentArg ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(contentArg)) : null;
        foreach ((string? path, string flag) in new[] { (journal, "--journal"), (output, "--output") })
        {
            // Said here, before the first request, in the flag's name: the runtime would say "Could not find file"
            // about the folder, or that a file "already exists" where a folder was meant, after the token check.
            if (path is not null && Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } folder && !Directory.Exists(folder)
                && !string.Equals(folder, contentFolder, StringComparison.Ordinal))
            {
                throw new CliException(File.Exists(folder)
                    ? $"{flag} '{path}': '{folder}' is a file, not a folder."
                    : $"{flag} '{path}': the folder '{folder}' does not exist.");
            }
        }

        if (journal is not null && RunJournal.IsHeldByAnotherRun(journal))
        {
            // Said first, for a new run as for a resume: what a live run wrote after the looks below would read as
            // another run's output, or as a finished run to continue.
            throw new CliException(JournalInUse(journal));
        }

        if (!resume && journal is not null && File.Exists(journal) && new FileInfo(journal).Length > 0)
        {
            // Never written over either way; but "add --resume" is only the way forward for a journal (every journal
            // starts with its run line, which records the targets per job).
            throw new CliException(JournalPeek.Read(journal) is not { TargetsPerJob: not null }
                ? $"--journal '{journal}' is not empty and does not read as a scrapedo journal: give the journal a new file."
                : $"journal '{journal}' already records a run: add --resume to continue it, or delete it to start over.");
        }

        if (input != "-" && !File.Exists(input))
        {
            throw new CliException(Directory.Exists(input) ? $"input '{input}' is a directory, not a file." : $"input file '{input}' not found.");
        }

        CreateJobRequest template = _jobOptions.Template(parse);

        if (resume)
        {
            // Read and appended to by the resume: a journal this user cannot do both with is one line naming the flag.
            CliValidation.CheckReadWrite(journal, "--journal");
        }

        // A resume reads the journal once, up front: its jobs were made with its targets per job, which a resume
        // without --targets-per-job takes over instead of refusing for the default.
        JournalPeek.Summary? recorded = resume && File.Exists(journal) ? JournalPeek.Read(journal!) : null;
        int? givenTargetsPerJob = parse.GetValue(_chunk);
        int targetsPerJob = givenTargetsPerJob ?? recorded?.TargetsPerJob ?? CreateJobRequest.MaxTargetsPerJob;
        if (targetsPerJob is < 1 or > CreateJobRequest.MaxTargetsPerJob)
        {
            throw new CliException("--targets-per-job must be 1 to 1000.");
        }

        if (givenTargetsPerJob is int given && recorded?.TargetsPerJob is int journaled && given != journaled)
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"--targets-per-job {given}: --journal '{journal}' was written with {journaled} targets per job, and its jobs exist with that size; resume with --targets-per-job {journaled}, or leave the option out."));
        }

        if (parse.GetValue(_maxJobs) is < 1)
        {
            throw new CliException("--max-in-flight-jobs must be at least 1.");
        }

        // Every option is checked before the preflight call below, the first request of the run (design.md).
        long? maxCredits = _cost.MaxCredits(parse);
        CreditTable? creditTable = _cost.Table(parse);
        bool estimate = _cost.IsEstimate(parse);
        string? contentDir = parse.GetValue(_contentDir);
        if (!estimate)
        {
            RecordWriter.CreateContentDir(contentDir);
        }

        long? total = input == "-" ? null : CountReadable(input, cancellationToken);
        string textExtension = template.Output == OutputFormat.Markdown ? ".md" : ".html";
        // A resume reads --output (and checks it against the journal) before the preflight call; a new run truncates
        // --output only once the API answered, so a wrong token does not empty an earlier run's file.
        await using RecordWriter? resumedWriter = resume && !estimate
            ? await RecordWriter.OpenAsync(output, resume, contentDir, textExtension, _console, cancellationToken, ResumeCheck(journal!, output!, recorded?.Delivered), recorded?.JobIds).ConfigureAwait(false)
            : null;
        if (!resume && !estimate)
        {
            CliValidation.CheckWritable(output, "--output");
            CliValidation.CheckWritable(journal, "--journal");
        }

        await using Connection connection = await Connection.OpenAsync(parse, _console, emulateWhenNoToken: true, cancellationToken).ConfigureAwait(false);
        await CliApp.PreflightAsync(connection, cancellationToken).ConfigureAwait(false);
        if (estimate)
        {
            if (recorded is { } earlier)
            {
                // The estimate prices every input line; it cannot tell which of them a resume sends again.
                _console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"scrapedo: --estimate prices the whole input, not what the resume has left: --journal '{journal}' records {CliValidation.Count(earlier.Delivered, "target")} already delivered, which a resume does not send again."));
            }

            return await CostOptions.EstimateAsync(connection.Client, _console, input, plugin, template, targetsPerJob, maxCredits, creditTable, cancellationToken).ConfigureAwait(false);
        }

        await using RecordWriter? newWriter = resumedWriter is null
            ? await RecordWriter.OpenAsync(output, resume, contentDir, textExtension, _console, cancellationToken).ConfigureAwait(false)
            : null;
        RecordWriter writer = resumedWriter ?? newWriter!;
        // With a journal, a record must be on disk before the journal (which is) says it was delivered: after a power
        // loss the output would otherwise hold fewer records than the journal counts, and no resume could go on.
        writer.FlushToDisk = journal is not null;
        // Resume dedupe: input line counts of the targets that already have records (from a file up front; from
        // stdin as its lines are read).
        RecordWriter? countAsRead = null;
        if (writer.Deduplicates)
        {
            if (input == "-")
            {
                countAsRead = writer;
            }
            else
            {
                CountInputLines(input, plugin is not null, writer, cancellationToken);
            }
        }

        var lines = new ConcurrentDictionary<long, InputLine>();
        var rejected = new ConcurrentQueue<(InputLine Line, string Error)>();
        var stats = new RunStats(total, writer.PreviouslyWritten, writer.PreviouslyNotSucceeded);
        var progress = new ProgressLine(_console, quiet, stats);
        var runner = new ScrapeDoRunner(connection.Client, new RunOptions
        {
            MaxJobsInFlight = parse.GetValue(_maxJobs),
            MaxTargetsPerJob = targetsPerJob,
            JournalPath = journal,
            Resume = resume,
            CancelJobsOnCancellation = !parse.GetValue(_noCancel),
            Progress = progress,
            // A record is acknowledged in the journal only once the sink holds it (a full disk loses nothing).
            FlushSink = writer.FlushAsync,
            // A record copies the content out (into the record or a --content-dir file): a pooled buffer per task
            // instead of a new array, which for a page of 85 KB or more is a large-object-heap allocation.
            LeaseContent = true,
            MaxCredits = maxCredits,
            CreditTable = creditTable,
            Credits = _cost.Usage,
        });

        Stream source = input == "-" ? _console.OpenInput() : new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        await using (source.ConfigureAwait(false))
        {
            IAsyncEnumerable<TaskOutcome> outcomes = plugin is null
                ? runner.RunAsync(UrlLines(source, lines, rejected, countAsRead), template, cancellationToken)
                : runner.RunPluginAsync(plugin, PluginLines(source, lines, rejected, countAsRead), template, cancellationToken);
            try
            {
                await foreach (TaskOutcome taken in outcomes.ConfigureAwait(false))
                {
                    // The record is written (copied into the batch buffer or a file) before the lease goes back.
                    using TaskContentLease? lease = taken.ContentLease;
                    TaskOutcome outcome = taken;
                    await WriteRejectedAsync(writer, rejected, stats, cancellationToken).ConfigureAwait(false);
                    lines.TryRemove(outcome.InputIndex, out InputLine line);
                    string? reason = line.Cut && outcome.Status == OutcomeStatus.Failed && outcome.JobId is null ? BoundedLineReader.TooLong : outcome.Reason;
                    string? error = outcome.Status == OutcomeStatus.Failed && line.Number > 0 ? $"line {line.Number}: {reason}" : reason;
                    if (line.Cut && outcome.JobId is null)
                    {
                        // A line cut by the reader (over 4 Mi characters) was never held whole: it is named by its line
                        // number and an excerpt. Every other record's target is the line as given (design.md).
                        outcome = new TaskOutcome { InputIndex = outcome.InputIndex, Target = line.RecordKey(plugin: false), Status = outcome.Status, Reason = outcome.Reason };
                    }

                    if (await writer.WriteAsync(outcome, plugin is null ? null : line.Text, error, cancellationToken).ConfigureAwait(false))
                    {
                        stats.Count(outcome.Status);
                    }
                }

                await WriteRejectedAsync(writer, rejected, stats, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is IOException or UnauthorizedAccessException) && writer.HasFailed)
            {
                // Every record the sink did not take is unacknowledged in the journal, so a resume writes it.
                string what = writer.FailedInContentDir ? $"a file into --content-dir '{contentDir}'" : output is null ? "the records to standard output" : $"--output '{output}'";
                throw new CliException($"writing {what} failed: {CliValidation.Why(ex.InnerException ?? ex)}"
                    + (resumable ? "; nothing unwritten was acknowledged: the same command with --resume writes it once the cause is fixed." : "."));
            }
            catch (JournalInUseException)
            {
                // Two runs started at once on one new journal: the second loses the lock when it opens the journal.
                throw new CliException(JournalInUse(journal!));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                progress.Finish(interrupted: true, connection.Client.RequestsSent);
                _cost.ReportSpent(_console, quiet);
                // A journal comes with an --output file (checked at the start), so a run against a server is resumable
                // exactly when it has one.
                _console.Error.WriteLine(resumable ? "scrapedo: interrupted; the same command with --resume continues the run."
                    : journal is not null ? $"scrapedo: interrupted. {EmulatorNotResumable}"
                    : "scrapedo: interrupted.");
                return ExitCodes.Interrupted;
            }
        }

        progress.Finish(interrupted: false, connection.Client.RequestsSent, stoppedForCredits: _cost.Usage.Stopped);
        if (_cost.Report(_console, quiet, resumable, maxCredits, emulated) is int creditStop)
        {
            return creditStop;
        }

        return stats.AllSucceeded ? ExitCodes.Success : ExitCodes.SomeFailed;
    }

    /// <summary>
    /// The resume's check of --output against the journal. A record is journaled as delivered only after it reached
    /// the sink, so the interrupted run's output holds at least as many records as the journal has deliveries; fewer
    /// means another file (or a truncated or deleted one), and resuming into it would lose those records silently.
    /// A missing journal is refused too: there is no run to continue, and starting one would create every job again.
    /// </summary>
    private static Action<bool, int, string?> ResumeCheck(string journal, string output, long? delivered) => (exists, records, foreignJob) =>
    {
        if (!File.Exists(journal))
        {
            throw new CliException($"--resume: --journal '{journal}' does not exist, so there is no run to continue. Check the path, or leave out --resume to start a new run.");
        }

        if (foreignJob is not null)
        {
            // Another run's output: its targets would all read as written, and the resume would pay for jobs whose
            // records it then drops as duplicates.
            throw new CliException($"--output '{output}' holds a record of job {foreignJob}, which --journal '{journal}' did not create: resume with the --output of the interrupted run.");
        }

        if (records < delivered)
        {
            string holds = exists ? $"holds {CliValidation.Count(records, "record")}" : "does not exist";
            throw new CliException(string.Create(CultureInfo.InvariantCulture,
                $"--output '{output}' {holds} but --journal '{journal}' records {delivered} delivered: resume with the --output of the interrupted run."));
        }
    };

    private static async Task WriteRejectedAsync(RecordWriter writer, ConcurrentQueue<(InputLine Line, string Error)> rejected, RunStats stats, CancellationToken cancellationToken)
    {
        while (rejected.TryDequeue(out var item))
        {
            // A cut line is named by its line number and an excerpt, as in a URL run, not echoed whole; any other refused
            // line (a plugin line too) by its text as given.
            var outcome = new TaskOutcome { InputIndex = -1, Target = item.Line.RecordKey(plugin: false), Status = OutcomeStatus.Failed, Reason = item.Error };
            if (await writer.WriteAsync(outcome, null, $"line {item.Line.Number}: {item.Error}", cancellationToken).ConfigureAwait(false))
            {
                stats.Count(OutcomeStatus.Failed);
            }
        }
    }

    private static async IAsyncEnumerable<string> UrlLines(Stream source, ConcurrentDictionary<long, InputLine> lines, ConcurrentQueue<(InputLine, string)> rejected, RecordWriter? counter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long index = 0;
        await foreach (InputLine line in ReadLines(source, cancellationToken).ConfigureAwait(false))
        {
            counter?.CountInputLine(line.RecordKey(plugin: false));
            if (line.NotText is { } notText)
            {
                rejected.Enqueue((line, notText));
                continue;
            }

            if (line.NotUtf8)
            {
                // Never sent: the server would scrape a URL the user never wrote.
                rejected.Enqueue((line, BoundedLineReader.NotUtf8));
                continue;
            }

            lines[index++] = line;
            yield return line.Text;
        }
    }

    private static async IAsyncEnumerable<PluginParams> PluginLines(Stream source, ConcurrentDictionary<long, InputLine> lines, ConcurrentQueue<(InputLine, string)> rejected, RecordWriter? counter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long index = 0;
        await foreach (InputLine line in ReadLines(source, cancellationToken).ConfigureAwait(false))
        {
            counter?.CountInputLine(line.RecordKey(plugin: true));
            if (line.Cut || line.NotUtf8 || line.NotText is not null)
            {
                rejected.Enqueue((line, line.NotText ?? (line.Cut ? BoundedLineReader.TooLong : BoundedLineReader.NotUtf8)));
                continue;
            }

            PluginParams parameters;
            try
            {
                parameters = PluginParams.FromJson(line.Text);
            }
            catch (ArgumentException ex)
            {
                rejected.Enqueue((line, CliValidation.PluginProblem(ex)));
                continue;
            }

            lines[index++] = line;
            yield return parameters;
        }
    }

    /// <summary>
    /// The input's targets, shared by <c>run</c> and <c>job create</c>: numbered lines, trimmed, blank lines and
    /// <c>#</c> comments skipped, a cut or not-UTF-8 line flagged, a binary file refused.
    /// </summary>
    internal static async IAsyncEnumerable<InputLine> ReadLines(Stream source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        BoundedLineReader reader = BoundedLineReader.Open(source);
        int number = 0;
        bool anyTarget = false;
        bool restOfRefusedLine = false;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } raw)
        {
            if (restOfRefusedLine)
            {
                // The reader ends a piece at a NUL; what follows up to the line break belongs to the line already
                // refused, and must not become a target of its own.
                restOfRefusedLine = raw.EndsWith('\0');
                continue;
            }

            number++;
            if (NotTextProblem(raw) is { } problem)
            {
                // Before the first target a binary input was given by mistake: one error, nothing sent. After it (a
                // file is checked whole before the run, so this is standard input) targets may already be in jobs and
                // paid for: the line gets its failed record and the run goes on.
                if (!anyTarget)
                {
                    throw NotText(problem, number);
                }

                restOfRefusedLine = raw.EndsWith('\0');
                yield return new InputLine(number, raw.Trim(), NotText: $"the line is not text (it {problem}) and was not sent");
                continue;
            }

            string text = raw.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            anyTarget = true;
            yield return new InputLine(number, text, reader.LastLineWasCut, BoundedLineReader.HasUndecodedBytes(text));
        }
    }

    private static string JournalInUse(string journal) => $"--journal '{journal}' is in use by another run; only one process may use a journal at a time.";

    /// <summary>
    /// Stops at a line that cannot be text: a NUL, or mostly bytes that are not UTF-8 (decoded as U+FFFD). A binary
    /// file given by mistake is then one clear error before anything is sent, not thousands of failed records.
    /// </summary>
    internal static void ThrowIfNotText(string line, int number)
    {
        if (NotTextProblem(line) is { } problem)
        {
            throw NotText(problem, number);
        }
    }

    private static CliException NotText(string problem, int number) => new($"input is not text (line {number} {problem}); give a file with one URL per line.");

    /// <summary>Why <paramref name="line"/> cannot be text ("contains a NUL byte", "is mostly not UTF-8"), or null.</summary>
    private static string? NotTextProblem(string line)
    {
        int replaced = 0;
        foreach (char c in line)
        {
            if (c == '\0')
            {
                return "contains a NUL byte";
            }

            replaced += c == '\uFFFD' ? 1 : 0;
        }

        return replaced >= 4 && replaced * 4 >= line.Length ? "is mostly not UTF-8" : null;
    }

    private static IEnumerable<string> ReadFileLines(string path, CancellationToken cancellationToken) =>
        ReadFileLinesCut(path, cancellationToken).Select(static l => l.Line);

    private static IEnumerable<(string Line, bool Cut)> ReadFileLinesCut(string path, CancellationToken cancellationToken)
    {
        using FileStream file = File.OpenRead(path);
        BoundedLineReader reader = BoundedLineReader.Open(file);
        while (reader.ReadLine(cancellationToken) is { } line)
        {
            yield return (line, reader.LastLineWasCut);
        }
    }

    private static void CountInputLines(string path, bool plugin, RecordWriter writer, CancellationToken cancellationToken)
    {
        foreach ((string line, bool cut) in ReadFileLinesCut(path, cancellationToken))
        {
            string text = line.Trim();
            if (text.Length > 0 && text[0] != '#')
            {
                writer.CountInputLine(new InputLine(0, text, cut, BoundedLineReader.HasUndecodedBytes(text)).RecordKey(plugin));
            }
        }
    }

    /// <summary>Counts the input's targets, reading it whole before the first request: a file that cannot be read is
    /// one line naming it (in the system's words for why), not .NET's.</summary>
    private static long CountReadable(string path, CancellationToken cancellationToken)
    {
        try
        {
            return CountTargets(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read input file '{path}': {CliValidation.Why(ex)}.");
        }
    }

    private static long CountTargets(string path, CancellationToken cancellationToken)
    {
        long count = 0;
        int number = 0;
        foreach (string line in ReadFileLines(path, cancellationToken))
        {
            ThrowIfNotText(line, ++number);
            ReadOnlySpan<char> t = line.AsSpan().Trim();
            if (t.Length > 0 && t[0] != '#')
            {
                count++;
            }
        }

        return count;
    }

    /// <param name="Number">The line's number in the input, from 1.</param>
    /// <param name="Text">The line, trimmed.</param>
    /// <param name="Cut">Longer than <see cref="BoundedLineReader.MaxLineChars"/>: its tail was dropped.</param>
    /// <param name="NotUtf8">Holds U+FFFD, what the reader puts for bytes that are not UTF-8.</param>
    /// <param name="NotText">Why the line cannot be text (a NUL, mostly not UTF-8), when standard input turned binary
    /// after its first target; such a line is never sent.</param>
    internal readonly record struct InputLine(int Number, string Text, bool Cut = false, bool NotUtf8 = false, string? NotText = null)
    {
        /// <summary>
        /// The target this line's record carries, and so the key a resume counts the line under
        /// (<see cref="RecordWriter.CountInputLine"/>): an excerpt for a line never held whole, the parsed params of a
        /// plugin line that can be sent, the line as given otherwise.
        /// </summary>
        public string RecordKey(bool plugin) =>
            Cut || NotText is not null ? RecordWriter.ExcerptTarget(Text) : plugin && !NotUtf8 ? RecordWriter.InputKey(Text, plugin: true) : Text;
    }

}

/// <summary>Counts of a run, for the progress line, the summary and the exit code.</summary>
internal sealed class RunStats(long? total, int previouslyWritten, int previouslyNotSucceeded = 0)
{
    private readonly long[] _byKind = new long[5];

    public long? Total { get; } = total;

    public int PreviouslyWritten { get; } = previouslyWritten;

    /// <summary>Records from before a resume whose status is not success: they count against the exit code too.</summary>
    public int PreviouslyNotSucceeded { get; } = previouslyNotSucceeded;

    public long Written => _byKind.Sum();

    public long NotSucceeded => Written - _byKind[(int)OutcomeStatus.Success];

    /// <summary>True when every record of the output succeeded, those written before a resume included.</summary>
    public bool AllSucceeded => NotSucceeded == 0 && PreviouslyNotSucceeded == 0;

    public void Count(OutcomeStatus kind) => Interlocked.Increment(ref _byKind[(int)kind]);

    public string Breakdown() => string.Create(CultureInfo.InvariantCulture,
        $"{_byKind[0]} success, {_byKind[1]} error, {_byKind[2]} canceled, {_byKind[3]} expired, {_byKind[4]} failed");
}

/// <summary>Live progress on stderr when it is a terminal, and a one-line summary at the end in every case.</summary>
internal sealed class ProgressLine(CliConsole console, bool quiet, RunStats stats) : IProgress<RunProgress>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw;
    private long _resubmitted;
    private long _notCreated;

    public void Report(RunProgress value)
    {
        Volatile.Write(ref _submitted, value.Submitted);
        Interlocked.Exchange(ref _resubmitted, value.Resubmitted);
        Interlocked.Exchange(ref _notCreated, value.NotCreated);
        if (quiet || !console.ErrorIsTerminal || _clock.ElapsedMilliseconds - Interlocked.Read(ref _lastDraw) < 250)
        {
            return;
        }

        Interlocked.Exchange(ref _lastDraw, _clock.ElapsedMilliseconds);
        long done = stats.Written + stats.PreviouslyWritten;
        // A rate, a request ratio and an ETA from the first handful of outcomes are noise (the first tick once showed
        // "72.000 req/target … ETA 03:48:23"): they appear once enough has finished for them to mean something.
        bool meaningful = value.Delivered >= MeaningfulAfterOutcomes && value.Elapsed >= MeaningfulAfter;
        string rates = meaningful ? string.Create(CultureInfo.InvariantCulture, $", {value.Rate:0.0}/s, {value.RequestsPerTarget:0.000} req/target") : string.Empty;
        string eta = meaningful && stats.Total is long total && value.Rate > 0 ? $", ETA {TimeSpan.FromSeconds(Math.Max(0, (total - done) / value.Rate)):hh\\:mm\\:ss}" : string.Empty;
        console.Error.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r{done}/{(stats.Total?.ToString(CultureInfo.InvariantCulture) ?? "?")} done, {stats.NotSucceeded + stats.PreviouslyNotSucceeded} not succeeded{rates}, {value.JobsInFlight} jobs open{eta}   "));
    }

    private const int MeaningfulAfterOutcomes = 20;
    private static readonly TimeSpan MeaningfulAfter = TimeSpan.FromSeconds(2);
    private long _submitted;

    private static string Records(long n) => CliValidation.Count(n, "record");

    /// <summary>Writes the summary line; <paramref name="stoppedForCredits"/>: submitting stopped at the budget or for
    /// want of credits (the next line says so), so no record is not an empty input.</summary>
    public void Finish(bool interrupted, long requests, bool stoppedForCredits = false)
    {
        if (quiet)
        {
            return;
        }

        if (console.ErrorIsTerminal)
        {
            console.Error.Write("\r");
        }

        double seconds = _clock.Elapsed.TotalSeconds;
        long written = stats.Written;
        long sent = Volatile.Read(ref _submitted);
        string resumed = stats.PreviouslyWritten == 0 ? string.Empty
            : stats.PreviouslyNotSucceeded == 0 ? string.Create(CultureInfo.InvariantCulture, $" (+{stats.PreviouslyWritten} from before the resume)")
            : string.Create(CultureInfo.InvariantCulture, $" (+{stats.PreviouslyWritten} from before the resume, {stats.PreviouslyNotSucceeded} of them not succeeded)");
        // Requests per target only over targets that were sent: lines refused before sending cost no request.
        long notCreated = Interlocked.Read(ref _notCreated);
        string perTarget = sent > 0 ? string.Create(CultureInfo.InvariantCulture, $", {(double)requests / sent:0.000} requests/target")
            : interrupted || stoppedForCredits || notCreated > 0 || (written == 0 && stats.PreviouslyWritten == 0) ? string.Empty
            : ", no target was sent";
        // Nothing written and nothing from before: every line was blank or a comment (a refused line gets a record).
        string empty = !interrupted && !stoppedForCredits && written == 0 && stats.PreviouslyWritten == 0
            ? " The input holds no targets: blank lines and lines starting with # are skipped."
            : string.Empty;
        if (notCreated > 0)
        {
            // "No target was sent" would be false here: creates were sent and refused (or kept failing).
            perTarget += string.Create(CultureInfo.InvariantCulture,
                $", no job could be created for {CliValidation.Count(notCreated, "target")}: see each record's error");
        }
        long resubmitted = Interlocked.Read(ref _resubmitted);
        if (resubmitted > 0)
        {
            resumed += string.Create(CultureInfo.InvariantCulture, $" ({resubmitted} targets resubmitted after the earlier interrupt canceled them)");
        }

        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scrapedo: {(interrupted ? "interrupted after" : "done:")} {Records(written)}{resumed}: {stats.Breakdown()} in {seconds:0.0} s ({(seconds > 0 ? written / seconds : 0):0.0}/s{perTarget}).{empty}"));
    }
}

using System.CommandLine;
using System.Globalization;
using ScrapeDo.Lean.Internal;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Cli;

/// <summary>One command per endpoint, printing the API's JSON.</summary>
internal static class ApiCommands
{
    public static Command Job(CliConsole console)
    {
        var job = new Command("job", "Create, inspect, list and cancel jobs.");
        job.Add(Create(console));

        var getId = new Argument<string>("job-id") { Description = "The job id." };
        var get = new Command("get", "Show a job with the status of each task (GET /api/v1/jobs/{id}).\n\nExample:\n  scrapedo job get 9f0c…") { getId };
        get.SetAction((parse, ct) => WithClientAsync(console, parse, ct, async c =>
            CliApp.PrintJson(console, await c.GetJobAsync(JobId(parse.GetValue(getId)), ct).ConfigureAwait(false), ScrapeDoJsonContext.Default.JobDetails)));
        job.Add(get);

        var page = CliValidation.Int("--page", "Page number, from 1.", min: 1);
        var pageSize = CliValidation.Int("--page-size", "Jobs per page, 1-100.", min: 1, max: ListJobsQuery.MaxPageSize);
        var status = CliValidation.OneOf("--status", "Only jobs with this status (queuing, queued, pending, rotating, success, error, canceled).",
            "queuing", "queued", "pending", "rotating", "success", "error", "canceled");
        var from = new Option<string?>("--from") { Description = "Only jobs started at or after this RFC 3339 time." };
        var to = new Option<string?>("--to") { Description = "Only jobs started at or before this RFC 3339 time." };
        var sort = CliValidation.OneOf("--sort", "start_time_desc (default) or start_time_asc.", "start_time_desc", "start_time_asc");
        var all = new Option<bool>("--all") { Description = "Follow every page and print one job per line (JSONL)." };
        var list = new Command("list", "List jobs (GET /api/v1/jobs).\n\nExamples:\n  scrapedo job list --page-size 50 --status success\n  scrapedo job list --all --from 2026-11-01T00:00:00Z") { page, pageSize, status, from, to, sort, all };
        list.SetAction((parse, ct) => WithClientAsync(console, parse, ct, async c =>
        {
            if (Time(parse.GetValue(from), "--from") > Time(parse.GetValue(to), "--to"))
            {
                throw new CliException("--from is after --to: no job can match.");
            }

            var query = new ListJobsQuery
            {
                Page = parse.GetValue(page),
                PageSize = parse.GetValue(pageSize),
                Status = parse.GetValue(status) is { } s ? (ScrapeDoStatus?)ScrapeDoStatus.FromString(s) : null,
                StartFrom = Time(parse.GetValue(from), "--from"),
                StartTo = Time(parse.GetValue(to), "--to"),
                Sort = parse.GetValue(sort) is { } so ? (JobSortOrder?)JobSortOrder.FromString(so) : null,
            };
            if (parse.GetValue(all))
            {
                // Not disposed: standard output outlives the command, as in `run -o -`.
                Stream stdout = console.OpenStdout();
                await foreach (JobDetails j in c.ListAllJobsAsync(query, ct).ConfigureAwait(false))
                {
                    WriteJobLine(stdout, j);
                }
            }
            else
            {
                CliApp.PrintJson(console, await c.ListJobsAsync(query, ct).ConfigureAwait(false), ScrapeDoJsonContext.Default.JobListPage);
            }
        }));
        job.Add(list);

        var cancelId = new Argument<string>("job-id") { Description = "The job id." };
        var cancel = new Command("cancel", "Cancel a job's unfinished tasks (DELETE /api/v1/jobs/{id}); 406 when it already finished.\n\nExample:\n  scrapedo job cancel 9f0c…") { cancelId };
        cancel.SetAction((parse, ct) => WithClientAsync(console, parse, ct, async c =>
            CliApp.PrintJson(console, await c.CancelJobAsync(JobId(parse.GetValue(cancelId)), ct).ConfigureAwait(false), ScrapeDoJsonContext.Default.CancelJobResponse)));
        job.Add(cancel);
        return job;
    }

    public static Command Task(CliConsole console)
    {
        var jobId = new Argument<string>("job-id") { Description = "The job id." };
        var taskId = new Argument<string>("task-id") { Description = "The task id." };
        var contentOut = new Option<string?>("--content-out") { Description = "Write the decoded content to this file and leave it out of the printed JSON." }.NonEmpty("a file path");
        var get = new Command("get", "Show a task with its content (GET /api/v1/jobs/{job}/{task}).\n\nExamples:\n  scrapedo task get JOB TASK\n  scrapedo task get JOB TASK --content-out page.html") { jobId, taskId, contentOut };
        get.SetAction((parse, ct) => WithClientAsync(console, parse, ct, async c =>
        {
            if (parse.GetValue(contentOut) is { } target)
            {
                CheckContentOut(target);
            }

            TaskDetails details = await c.GetTaskAsync(JobId(parse.GetValue(jobId)), Id(parse.GetValue(taskId), "task-id"), ct).ConfigureAwait(false);
            if (parse.GetValue(contentOut) is { } path)
            {
                try
                {
                    await using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
                    await details.CopyContentToAsync(file, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"cannot write --content-out '{path}': {CliValidation.Why(ex)}.");
                }

                // The help promises the content is left out of the JSON, not printed as an empty string.
                CliApp.PrintJsonWithout(console, details.WithoutContent(), ScrapeDoJsonContext.Default.TaskDetails, "Content");
                return;
            }

            CliApp.PrintJson(console, details, ScrapeDoJsonContext.Default.TaskDetails);
        }));
        return new Command("task", "Inspect tasks.") { get };
    }

    public static Command Account(CliConsole console)
    {
        var account = new Command("account", "Show async concurrency and credits (GET /api/v1/me).\n\nExamples:\n  export SCRAPEDO_TOKEN=your-token\n  scrapedo account\n  scrapedo account --emulate");
        account.SetAction((parse, ct) => WithClientAsync(console, parse, ct, async c =>
            CliApp.PrintJson(console, await c.GetAccountAsync(ct).ConfigureAwait(false), ScrapeDoJsonContext.Default.AccountInfo)));
        return account;
    }

    private static Command Create(CliConsole console)
    {
        var input = new Argument<string?>("input") { Description = "File of URLs (or JSON params with --plugin), one per line; '-' for stdin, which is also read when neither a file nor --target is given and stdin is piped.", Arity = ArgumentArity.ZeroOrOne };
        var targets = new Option<string[]>("--target") { Description = "A target URL; repeatable." };
        var plugin = new Option<string?>("--plugin") { Description = "Create a plugin job; input lines are JSON params objects." }.NonEmpty("a plugin key (e.g. amazon/pdp)");
        var jobOptions = new JobOptions();
        var create = new Command("create", "Create one job (POST /api/v1/jobs) of at most 1000 targets and print its JobID and TaskIDs.\n\nExamples:\n  scrapedo job create --target https://example.com --target https://example.org\n  scrapedo job create urls.txt --render --geo-code us") { input, targets, plugin };
        jobOptions.AddTo(create);
        create.SetAction((parse, ct) => WithClientAsync(console, parse, ct, async c =>
        {
            // Each entry keeps where it came from, so a bad one is named as the user gave it (a --target or a line).
            var lines = new List<(string Text, string Where)>();
            foreach (string t in parse.GetValue(targets) ?? [])
            {
                lines.Add((t.Trim(), $"--target '{CliValidation.Excerpt(t)}'"));
            }

            string? path = parse.GetValue(input);
            if (path is null && lines.Count == 0)
            {
                // As `run` does: nothing named means stdin, when something is piped in.
                console.RefuseUnaskedTerminalInput(inputGiven: false, NoTargets);
                path = "-";
            }

            if (path is not null)
            {
                if (path != "-" && !File.Exists(path))
                {
                    throw new CliException(Directory.Exists(path) ? $"input '{path}' is a directory, not a file." : $"input file '{path}' not found.");
                }

                using Stream source = path == "-" ? console.OpenInput() : File.OpenRead(path);
                await foreach (RunCommand.InputLine line in RunCommand.ReadLines(source, ct).ConfigureAwait(false))
                {
                    if (line.Cut || line.NotUtf8 || line.NotText is not null)
                    {
                        throw new CliException($"{(path == "-" ? "stdin" : $"input '{path}'")}, line {line.Number}: {line.NotText ?? (line.Cut ? BoundedLineReader.TooLong : BoundedLineReader.NotUtf8)}.");
                    }

                    lines.Add((line.Text, $"line {line.Number}"));
                }
            }

            if (lines.Count == 0)
            {
                throw new CliException(path == "-"
                    ? $"job create needs targets, and stdin had none: {NoTargets}"
                    : $"input '{path}' holds no targets (blank lines and lines starting with # are skipped).");
            }

            if (lines.Count > CreateJobRequest.MaxTargetsPerJob)
            {
                throw new CliException($"job create makes one job of at most {CreateJobRequest.MaxTargetsPerJob} targets, not {lines.Count}; 'scrapedo run' splits any number into jobs.");
            }

            CreateJobRequest template = jobOptions.Template(parse);
            CreateJobRequest request;
            if (parse.GetValue(plugin) is { } key)
            {
                var parameters = new List<PluginParams>(lines.Count);
                foreach ((string text, string where) in lines)
                {
                    try
                    {
                        parameters.Add(PluginParams.FromJson(text));
                    }
                    catch (ArgumentException ex)
                    {
                        throw new CliException($"{where}: {CliValidation.PluginProblem(ex)}");
                    }
                }

                request = template.WithPlugin(new PluginRequest(key, parameters));
            }
            else
            {
                foreach ((string text, string where) in lines)
                {
                    if (RequestValidator.TargetProblem(text) is { } problem)
                    {
                        throw new CliException($"{where}: the target {problem}");
                    }
                }

                request = template.WithTargets(lines.ConvertAll(l => l.Text));
            }
            CreateJobResponse created = await c.CreateJobAsync(request, ct).ConfigureAwait(false);
            try
            {
                CliApp.PrintJson(console, created, ScrapeDoJsonContext.Default.CreateJobResponse);
            }
            catch (CliException ex)
            {
                // The job exists and is billed: its id must not be lost with the answer.
                throw new CliException($"job {created.JobId} was created, but {ex.Message}");
            }
        }));
        return create;
    }

    private const string NoTargets = "give --target URL (repeatable), a FILE with one per line, or pipe the lines in (e.g. cat urls.txt | scrapedo job create -).";

    private static Task<int> WithClientAsync(CliConsole console, ParseResult parse, CancellationToken ct, Func<ScrapeDoClient, Task> body) =>
        CliApp.Guard(console, async () =>
        {
            await using Connection connection = await Connection.OpenAsync(parse, console, emulateWhenNoToken: false, ct).ConfigureAwait(false);
            try
            {
                await body(connection.Client).ConfigureAwait(false);
            }
            catch (ScrapeDoException ex) when (Connection.IsUnreachable(ex))
            {
                throw connection.Unreachable(ex);
            }

            return ExitCodes.Success;
        }, ct);

    private static string Id(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new CliException($"{name} is empty; give the id printed by 'scrapedo job create' or 'scrapedo job list'.");
        }

        if (value.Length > 256)
        {
            throw new CliException($"{name} '{CliValidation.Excerpt(value)}' is too long for an id (ids are UUIDs).");
        }

        string id = value.Trim();
        // The library refuses these too, but naming its own parameter (taskId) instead of this argument.
        return id is "." or ".." ? throw new CliException($"{name} '{id}' is a path step, not an id (ids are UUIDs).") : id;
    }

    /// <summary>
    /// Prints one job of <c>job list --all</c> as a JSON line, through standard output as a stream, so that a reader
    /// which leaves (<c>scrapedo job list --all | head</c>) stops the paging with one line: the console's text writer
    /// ignores a broken pipe on Unix, and the listing used to request every remaining page for nobody. Synchronous
    /// writes with no cancellation token (an interrupt is seen between jobs, so it leaves whole lines only), ending in
    /// <c>\n</c> on every system as <c>run</c>'s JSONL records do.
    /// </summary>
    private static void WriteJobLine(Stream stdout, JobDetails job)
    {
        try
        {
            stdout.Write(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(job, ScrapeDoJsonContext.Default.JobDetails));
            stdout.Write("\n"u8);
            stdout.Flush();
        }
        catch (IOException ex)
        {
            throw new CliException($"writing the job list to standard output failed: {CliValidation.Why(ex)}.");
        }
    }

    /// <summary>Refuses a --content-out that cannot be written before the task is fetched (its content would be lost).</summary>
    private static void CheckContentOut(string path)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"--content-out '{path}' is a folder; give a file name for the content (e.g. page.html).");
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new CliException($"--content-out '{path}': the folder '{folder}' does not exist.");
        }
    }

    /// <summary>
    /// A job id, checked before it is sent: async-api.md gives JobID as a UUID, so anything else would only come back
    /// as a 400. (A task id's format is not documented, so it is left to the API.)
    /// </summary>
    private static string JobId(string? value)
    {
        string id = Id(value, "job-id");
        return Guid.TryParse(id, out _) ? id
            : throw new CliException($"job-id '{CliValidation.Excerpt(id)}' is not a job id: job ids are UUIDs (e.g. 9f0c5a3e-1b2d-4c5e-8f70-123456789abc), as printed by 'scrapedo job create' or 'scrapedo job list'.");
    }

    private static DateTimeOffset? Time(string? value, string flag)
    {
        if (value is null)
        {
            return null;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset t)
            ? t
            : throw new CliException($"{flag} '{value}' is not a time; use RFC 3339, e.g. 2026-11-17T00:00:00Z.");
    }
}

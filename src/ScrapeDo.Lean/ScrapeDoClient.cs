using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;
using ScrapeDo.Lean.Internal;
using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean;

/// <summary>
/// Client of the Scrape.do Async API. Immutable and thread-safe: create one per process and share it.
/// Every method validates its input before sending, retries what is safe to retry, and reports failures as
/// <see cref="ScrapeDoException"/> subclasses; caller cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class ScrapeDoClient : IDisposable
{
    private readonly ApiPipeline _pipeline;
    private readonly string _apiPrefix;
    private readonly Uri _jobsUri;
    private readonly Uri _meUri;
    private const int JobUriCacheSize = 4096;
    private const int MaxIdLength = 256;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _jobUris = new(StringComparer.Ordinal);

    /// <summary>Creates a client.</summary>
    /// <param name="options">Settings; validated here and not read again.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public ScrapeDoClient(ScrapeDoClientOptions options)
        : this(options, random: null)
    {
    }

    internal ScrapeDoClient(ScrapeDoClientOptions options, Func<double>? random)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string baseText = options.BaseAddress.AbsoluteUri;
        _apiPrefix = (baseText.EndsWith('/') ? baseText : baseText + "/") + "api/v1/";
        _jobsUri = new Uri(_apiPrefix + "jobs");
        _meUri = new Uri(_apiPrefix + "me");
        BaseAddress = new Uri(_apiPrefix[..^"api/v1/".Length]);
        TimeProvider = options.TimeProvider;
        LoggerFactory = options.LoggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        _pipeline = new ApiPipeline(options, random);
    }

    /// <summary>The API base address in use.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The clock the client uses for timeouts and delays.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The logger factory from the options (a null factory when none was given); the runner logs through it too.</summary>
    internal Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory { get; }

    /// <summary>HTTP attempts sent so far by this client, retries included.</summary>
    public long RequestsSent => _pipeline.AttemptsSent;

    /// <summary>Retries this client has scheduled so far (each one a backoff wait followed by a new attempt).</summary>
    public long RetriesScheduled => _pipeline.RetriesScheduled;

    /// <summary>Attempts that failed in a way a retry may pass (network, timeout, 408/429/5xx), retried or not.</summary>
    internal long TransientFailures => _pipeline.TransientFailures;

    /// <summary>Why the last such attempt failed (a short constant text such as "network error" or "HTTP 503"), or null.</summary>
    internal string? LastFailureReason => _pipeline.LastFailureReason;

    /// <summary>Creates a job (<c>POST /api/v1/jobs</c>).</summary>
    /// <param name="request">Targets or plugin, and options.</param>
    /// <param name="cancellationToken">Cancels the call. A create canceled after it was sent may still have made its
    /// job (the <see cref="OperationCanceledException"/> cannot say): look for it in <see cref="ListJobsAsync"/> before
    /// sending the same targets again, as the runner does.</param>
    /// <returns>The job id and one task id per target (or plugin parameter set). That they come in target order is
    /// inferred, not documented (async-api.md); pair a task with its target by its <c>URL</c> where it matters, as
    /// the runner does.</returns>
    /// <exception cref="ArgumentException">The request is invalid; nothing was sent.</exception>
    /// <exception cref="ScrapeDoException">The call failed. Check <see cref="ScrapeDoException.CreateOutcomeUnknown"/>
    /// before resubmitting: when true, a job may exist.</exception>
    public async Task<CreateJobResponse> CreateJobAsync(CreateJobRequest request, CancellationToken cancellationToken = default)
    {
        RequestValidator.Validate(request);
        JsonBodyWriter writer = JsonBodyWriter.Rent();
        try
        {
            writer.Write(request);
            var call = new ApiCall(ScrapeDoOperation.CreateJob, HttpMethod.Post, _jobsUri);
            return await _pipeline.SendAsync(call, writer.WrittenMemory, ScrapeDoJsonContext.Default.CreateJobResponse, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            JsonBodyWriter.Return(writer);
        }
    }

    /// <summary>Gets a job with the status of each task (<c>GET /api/v1/jobs/{jobID}</c>).</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ScrapeDoApiException">For example 404 when the job does not exist.</exception>
    public Task<JobDetails> GetJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        GetJobAsync(jobId, JobDetailsReader.TypeInfo, cancellationToken);

    /// <summary>
    /// The runner's poll: the same GET as <see cref="GetJobAsync(string, CancellationToken)"/>, with the same retries and failures, but the body
    /// is diffed against the run's task table by <paramref name="diff"/> instead of being read into a
    /// <see cref="JobDetails"/>. Returns the job's status; the newly finished tasks are left in the diff.
    /// </summary>
    internal ValueTask<ScrapeDoStatus> PollJobAsync(string jobId, Internal.Runner.PollDiff diff, CancellationToken cancellationToken)
    {
        // Awaited exactly once by the watcher, so the call's state machine comes from the pool.
        return _pipeline.SendPooledAsync(JobCall(jobId), default, diff.TypeInfo, cancellationToken);
    }

    /// <summary>Gets a task with its content (<c>GET /api/v1/jobs/{jobID}/{taskID}</c>).</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ScrapeDoApiException">For example 410 (<see cref="ScrapeDoApiException.IsGone"/>) once the
    /// content is past its retention.</exception>
    public Task<TaskDetails> GetTaskAsync(string jobId, string taskId, CancellationToken cancellationToken = default) =>
        // The runner's hand-written reader: the generated one's values and failures (TaskDetailsReaderTests), about
        // 1.1 KB less garbage a call, and the task's generated metadata stays out of apps that never write a task.
        _pipeline.SendAsync(TaskCall(jobId, taskId), default, Internal.Runner.TaskDetailsReader.TypeInfo, cancellationToken);

    /// <summary>
    /// Gets a task as <see cref="GetTaskAsync(string, string, CancellationToken)"/> does (same request, retries and
    /// failures), but with its content in a pooled buffer instead of a fresh array: for a caller that writes each
    /// content out and does not keep it. Dispose the result once the content is written.
    /// </summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ScrapeDoApiException">For example 410 (<see cref="ScrapeDoApiException.IsGone"/>) once the
    /// content is past its retention.</exception>
    public Task<LeasedTask> GetLeasedTaskAsync(string jobId, string taskId, CancellationToken cancellationToken = default)
    {
        ApiCall call = TaskCall(jobId, taskId); // Bad ids throw here, before anything is sent, as GetTaskAsync does.
        // A read that fails after its content was rented (a malformed body, a connection lost mid-body) drops that
        // buffer to the garbage collector: never returned, so never handed out twice.
        return LeaseAsync(_pipeline.SendPooledAsync(call, default, Internal.Runner.PooledTaskContent.TypeInfo, cancellationToken));

        static async Task<LeasedTask> LeaseAsync(ValueTask<TaskDetails> read) => LeasedTask.From(await read.ConfigureAwait(false));
    }

    /// <summary>
    /// The runner's first poll of a job: <see cref="GetJobAsync(string, CancellationToken)"/> with the same retries and
    /// failures, read through <paramref name="typeInfo"/> (a reader that shares the strings the run already holds).
    /// </summary>
    internal Task<JobDetails> GetJobAsync(string jobId, System.Text.Json.Serialization.Metadata.JsonTypeInfo<JobDetails> typeInfo, CancellationToken cancellationToken) =>
        _pipeline.SendAsync(JobCall(jobId), default, typeInfo, cancellationToken);

    private ApiCall JobCall(string jobId) => new(ScrapeDoOperation.GetJob, HttpMethod.Get, JobUri(jobId), jobId);

    /// <summary>
    /// The runner's task read: <see cref="GetTaskAsync(string, string, CancellationToken)"/> with the same retries and failures, read through
    /// <paramref name="typeInfo"/> (the runner's reader), for a caller that awaits it exactly once (its state machine is pooled).
    /// </summary>
    internal ValueTask<TaskDetails> GetTaskAsync(string jobId, string taskId, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TaskDetails> typeInfo, CancellationToken cancellationToken) =>
        _pipeline.SendPooledAsync(TaskCall(jobId, taskId), default, typeInfo, cancellationToken);

    private ApiCall TaskCall(string jobId, string taskId)
    {
        string jobSegment = Segment(jobId, nameof(jobId));
        string taskSegment = Segment(taskId, nameof(taskId));
        return new ApiCall(ScrapeDoOperation.GetTask, HttpMethod.Get, new Uri(string.Concat(_apiPrefix, "jobs/", jobSegment, "/", taskSegment)), jobId, taskId);
    }

    /// <summary>Cancels a job's unfinished tasks (<c>DELETE /api/v1/jobs/{jobID}</c>).</summary>
    /// <param name="jobId">The job id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ScrapeDoApiException">406 (<see cref="ScrapeDoApiException.IsNotAcceptable"/>) when the job
    /// already finished; 404 when it does not exist.</exception>
    public Task<CancelJobResponse> CancelJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var call = new ApiCall(ScrapeDoOperation.CancelJob, HttpMethod.Delete, JobUri(jobId), jobId);
        return _pipeline.SendAsync(call, default, ScrapeDoJsonContext.Default.CancelJobResponse, cancellationToken);
    }

    /// <summary>Gets the account's async concurrency and credits (<c>GET /api/v1/me</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<AccountInfo> GetAccountAsync(CancellationToken cancellationToken = default)
    {
        var call = new ApiCall(ScrapeDoOperation.GetAccount, HttpMethod.Get, _meUri);
        return _pipeline.SendAsync(call, default, ScrapeDoJsonContext.Default.AccountInfo, cancellationToken);
    }

    /// <summary><see cref="GetAccountAsync"/> sent once, outside the retry budget: the health check's call, which
    /// must neither spend the retries of the application's own calls through an outage nor refill them.</summary>
    internal Task<AccountInfo> ProbeAccountAsync(CancellationToken cancellationToken)
    {
        var call = new ApiCall(ScrapeDoOperation.GetAccount, HttpMethod.Get, _meUri, SingleAttempt: true);
        return _pipeline.SendAsync(call, default, ScrapeDoJsonContext.Default.AccountInfo, cancellationToken);
    }

    /// <summary>Gets one page of jobs (<c>GET /api/v1/jobs</c>).</summary>
    /// <param name="query">Paging and filters; null for the API's defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentOutOfRangeException">Page below 1 or page size outside 1–100; nothing was sent.</exception>
    /// <exception cref="ArgumentException">StartFrom is after StartTo; nothing was sent.</exception>
    public Task<JobListPage> ListJobsAsync(ListJobsQuery? query = null, CancellationToken cancellationToken = default)
    {
        query?.Validate();
        return ListPageAsync(query, query?.Page, ScrapeDoJsonContext.Default.JobListPage, cancellationToken);
    }

    /// <summary>
    /// Enumerates every job matching <paramref name="query"/>, requesting pages as the caller consumes them, starting
    /// at <see cref="ListJobsQuery.Page"/> (default 1).
    /// </summary>
    /// <param name="query">Filters and page size; null for the API's defaults.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <exception cref="ArgumentOutOfRangeException">Page below 1 or page size outside 1–100, thrown by this call (not
    /// at the first <c>MoveNextAsync</c>); nothing was sent.</exception>
    public IAsyncEnumerable<JobDetails> ListAllJobsAsync(ListJobsQuery? query = null, CancellationToken cancellationToken = default)
    {
        query?.Validate();
        return AllPagesAsync(query, ScrapeDoJsonContext.Default.JobListPage, static page => (page.Jobs, page.TotalPages), static job => job.JobId, cancellationToken);
    }

    /// <summary>Closes the connections the client opened (not an injected <see cref="HttpClient"/> or handler).</summary>
    public void Dispose() => _pipeline.Dispose();

    /// <summary>Describes the client without its token.</summary>
    public override string ToString() => $"ScrapeDoClient {{ BaseAddress = {BaseAddress} }}";

    /// <summary>
    /// The jobs matching <paramref name="query"/>, page after page, as ids and start times only (the runner's fence;
    /// see <see cref="JobStampsReader"/>).
    /// </summary>
    internal IAsyncEnumerable<JobStamp> ListJobStampsAsync(ListJobsQuery query, CancellationToken cancellationToken)
    {
        query.Validate();
        return AllPagesAsync(query, JobStampsReader.TypeInfo, static page => (page.Jobs, page.TotalPages), static job => job.JobId, cancellationToken);
    }

    /// <summary>One page of <see cref="ListJobStampsAsync"/>: <paramref name="query"/>'s page, or the first.</summary>
    internal Task<JobStampsPage> ListJobStampsPageAsync(ListJobsQuery query, CancellationToken cancellationToken)
    {
        query.Validate();
        return ListPageAsync(query, query.Page, JobStampsReader.TypeInfo, cancellationToken);
    }

    /// <summary>
    /// Every item of every page from <paramref name="query"/>'s page on, read as <paramref name="typeInfo"/> says. A page
    /// without a page count (<c>TotalPages</c> absent, null or 0 while it lists jobs; the spec lets a reader expect any
    /// member to be missing) is not taken as the last: the runner's reconcile and fence read this listing, and a page
    /// missed there is a job taken for absent and created twice. Then the next page is asked for while pages come back
    /// as long as the longest so far, until one is shorter, empty, or starts with the same job as the page before (a
    /// server that answers past the end with its last page).
    /// </summary>
    private async IAsyncEnumerable<TItem> AllPagesAsync<TPage, TItem>(ListJobsQuery? query, JsonTypeInfo<TPage> typeInfo, Func<TPage, (IReadOnlyList<TItem> Items, int TotalPages)> read, Func<TItem, string> idOf, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int page = query?.Page ?? 1;
        string? previousFirst = null;
        int fullPage = 0;
        while (true)
        {
            (IReadOnlyList<TItem> items, int totalPages) = read(await ListPageAsync(query, page, typeInfo, cancellationToken).ConfigureAwait(false));
            bool counted = totalPages > 0;
            if (!counted && items.Count > 0 && idOf(items[0]) == previousFirst)
            {
                yield break;
            }

            foreach (TItem item in items)
            {
                yield return item;
            }

            // Without a count, a page as long as the longest so far may have a next one (a server may cap the page size
            // below the one asked for, so the pages themselves say what "full" is). An empty page ends it either way, so
            // a server that miscounts TotalPages cannot make this loop forever.
            fullPage = Math.Max(fullPage, items.Count);
            if (items.Count == 0 || (counted ? page >= totalPages : items.Count < fullPage))
            {
                yield break;
            }

            previousFirst = idOf(items[0]);
            page++;
        }
    }

    private Task<TPage> ListPageAsync<TPage>(ListJobsQuery? query, int? page, JsonTypeInfo<TPage> typeInfo, CancellationToken cancellationToken)
    {
        string queryString = query?.ToQueryString(page) ?? (page is int p ? $"?page={p}" : string.Empty);
        var call = new ApiCall(ScrapeDoOperation.ListJobs, HttpMethod.Get, queryString.Length == 0 ? _jobsUri : new Uri(string.Concat(_apiPrefix, "jobs", queryString)));
        return _pipeline.SendAsync(call, default, typeInfo, cancellationToken);
    }

    private Uri JobUri(string jobId)
    {
        // A job is polled many times: its Uri (about 400 bytes to build and parse) is made once and reused.
        if (jobId is not null && _jobUris.TryGetValue(jobId, out Uri? cached))
        {
            return cached;
        }

        var uri = new Uri(string.Concat(_apiPrefix, "jobs/", Segment(jobId!, nameof(jobId))));
        if (_jobUris.Count >= JobUriCacheSize)
        {
            _jobUris.Clear();
        }

        _jobUris.TryAdd(jobId!, uri);
        return uri;
    }

    private static string Segment(string id, string name)
    {
        // No fast path for UUIDs here: one (a SearchValues scan of RFC 3986 unreserved chars) saved 1.7 ns a call and
        // cost 4,112 bytes of every native AOT app (docs/benchmarks.md, 2026-12-06 20:26 UTC); EscapeDataString already
        // returns the id itself when nothing needs escaping.
        ArgumentException.ThrowIfNullOrWhiteSpace(id, name);
        if (id is "." or "..")
        {
            // No escaping changes them, and Uri then removes them as dot segments: ".." would send the call to the job
            // list and "." to the job itself.
            throw new ArgumentException($"{name} is '{id}', a path step, not an id (ids are UUIDs).", name);
        }

        if (id.Length > MaxIdLength)
        {
            throw new ArgumentException($"{name} is {id.Length} characters long; ids are short strings (UUIDs).", name);
        }

        return Uri.EscapeDataString(id);
    }
}

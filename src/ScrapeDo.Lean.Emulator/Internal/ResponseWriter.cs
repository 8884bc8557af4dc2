using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.ObjectPool;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Writes the API's JSON shapes by hand with <see cref="Utf8JsonWriter"/> (no serializer, nothing shared with the
/// client's models, so a wire-name mistake on one side is not mirrored on the other). Buffers are pooled.
/// </summary>
internal sealed class ResponseWriter
{
    private const int RetainLimit = 1024 * 1024;

    // HTML is written unescaped (no \u003C): smaller bodies, and still valid JSON for any reader.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static readonly ObjectPool<ResponseWriter> Pool = new DefaultObjectPool<ResponseWriter>(new Policy(), 64);

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;
    private bool _nullZeroValues;

    private ResponseWriter() => _json = new Utf8JsonWriter(_buffer, WriterOptions);

    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public Utf8JsonWriter Json => _json;

    /// <param name="nullZeroValues">Numbers and flags at 0 or false are written as null (<see cref="FaultOptions.NullZeroValues"/>).</param>
    public static ResponseWriter Rent(bool nullZeroValues = false)
    {
        ResponseWriter writer = Pool.Get();
        writer._nullZeroValues = nullZeroValues;
        return writer;
    }

    public static void Return(ResponseWriter writer) => Pool.Return(writer);

    public void Flush() => _json.Flush();

    public void Error(string message, int code)
    {
        _json.WriteStartObject();
        _json.WriteString("Error"u8, message);
        _json.WriteNumber("Code"u8, code);
        _json.WriteEndObject();
    }

    public void Created(JobState job)
    {
        _json.WriteStartObject();
        _json.WriteString("JobID"u8, job.JobId);
        _json.WriteString("Message"u8, "Job created successfully");
        TaskIds(job);
        _json.WriteEndObject();
    }

    // snapshotFaults: a get-job answer, where an omitted task or an unknown status is injected.
    public void Job(JobState job, JobStatusRule rule, bool canceledResponse = false, bool snapshotFaults = false)
    {
        _json.WriteStartObject();
        _json.WriteString("JobID"u8, job.JobId);
        TaskIds(job);
        bool upper = snapshotFaults && job.UpperCaseStatuses;
        _json.WriteString("Status"u8, upper ? job.Status(rule).ToUpperInvariant() : job.Status(rule));
        Time("StartTime"u8, job.Created);
        if (job.EndTime is { } end)
        {
            Time("EndTime"u8, end);
        }

        Number("AcquiredConcurrency"u8, Volatile.Read(ref job.Running));
        Number("LimitConcurrency"u8, 0);
        Flag("Canceled"u8, job.Canceled || canceledResponse);
        _json.WriteStartArray("Tasks"u8);
        foreach (TaskState t in job.Tasks)
        {
            if (snapshotFaults && t.Index == job.OmittedTask)
            {
                continue;
            }

            _json.WriteStartObject();
            _json.WriteString("TaskID"u8, t.TaskId);
            _json.WriteString("URL"u8, t.Url);
            string status = snapshotFaults && t.Index == job.UnknownStatusTask ? job.UnknownStatus! : TaskPhaseNames.Wire(t.Phase);
            _json.WriteString("Status"u8, upper ? status.ToUpperInvariant() : status);
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
    }

    public void Task(TaskState task, ContentGenerator content)
    {
        TaskPhase phase = task.Phase;
        _json.WriteStartObject();
        _json.WriteString("TaskID"u8, task.TaskId);
        _json.WriteString("JobID"u8, task.Job.JobId);
        _json.WriteString("URL"u8, task.Url);
        _json.WriteString("Status"u8, TaskPhaseNames.Wire(phase));
        if (task.StartTime is { } start)
        {
            Time("StartTime"u8, start);
        }

        if (task.EndTime is { } end)
        {
            Time("EndTime"u8, end);
        }

        Time("ExpiresAt"u8, task.Job.ExpiresAt);
        Time("UpdateTime"u8, task.UpdateTime);
        bool binary = phase == TaskPhase.Success && content.IsBinary(task);
        Flag("Base64EncodedContent"u8, binary);
        Number("StatusCode"u8, phase == TaskPhase.Success || phase == TaskPhase.Error ? task.StatusCode : 0);
        _json.WriteStartObject("ResponseHeaders"u8);
        if (phase == TaskPhase.Success)
        {
            _json.WriteString("Content-Type"u8, task.PluginParams is not null ? "application/json" : binary ? ContentGenerator.BinaryContentType(task) : "text/html; charset=utf-8");
        }

        _json.WriteEndObject();
        _json.WriteStartObject("Scrape.do"u8);
        if (TaskPhaseNames.IsTerminal(phase))
        {
            _json.WriteString("Scrape.do-Request-Cost"u8, Billing.CostOf(task, phase).ToString(CultureInfo.InvariantCulture));
            _json.WriteString("Scrape.do-Initial-Status-Code"u8, task.StatusCode.ToString(CultureInfo.InvariantCulture));
        }

        _json.WriteEndObject();
        if (phase == TaskPhase.Success)
        {
            byte[] bytes = content.Rent(task, out int length);
            try
            {
                if (binary)
                {
                    _json.WriteBase64String("Content"u8, bytes.AsSpan(0, length));
                }
                else
                {
                    _json.WriteString("Content"u8, bytes.AsSpan(0, length));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytes);
            }
        }
        else
        {
            _json.WriteString("Content"u8, ""u8);
        }

        if (task.ErrorMessage is { } error)
        {
            _json.WriteString("ErrorMessage"u8, error);
        }

        _json.WriteString("TraceID"u8, task.TraceId);
        if (task.Job.Request.WebhookUrl is { } hook)
        {
            _json.WriteString("WebhookURL"u8, hook);
            _json.WriteString("WebhookStatus"u8, task.WebhookStatus ?? "pending");
            if (task.WebhookRequestTime is { } when)
            {
                Time("WebhookRequestTime"u8, when);
            }
        }

        _json.WriteEndObject();
    }

    public void List(IReadOnlyList<JobState> page, int total, int pageSize, int pageNumber, JobStatusRule rule)
    {
        _json.WriteStartObject();
        _json.WritePropertyName("Jobs"u8);
        _json.WriteStartArray();
        foreach (JobState job in page)
        {
            Job(job, rule);
        }

        _json.WriteEndArray();
        Number("TotalCount"u8, total);
        Number("PageSize"u8, pageSize);
        Number("PageNumber"u8, pageNumber);
        Number("TotalPages"u8, total == 0 ? 0 : (total + pageSize - 1) / pageSize);
        _json.WriteEndObject();
    }

    public void Me(int activeJobs, long credits, int free, int total)
    {
        _json.WriteStartObject();
        Number("ActiveJobs"u8, activeJobs);
        // Misspelled on purpose: the real API spells it this way.
        Number("AvaliableCredits"u8, credits);
        Number("FreeConcurrency"u8, free);
        Number("TotalConcurrency"u8, total);
        _json.WriteEndObject();
    }

    private void Number(ReadOnlySpan<byte> name, long value)
    {
        if (value == 0 && _nullZeroValues)
        {
            _json.WriteNull(name);
        }
        else
        {
            _json.WriteNumber(name, value);
        }
    }

    private void Flag(ReadOnlySpan<byte> name, bool value)
    {
        if (!value && _nullZeroValues)
        {
            _json.WriteNull(name);
        }
        else
        {
            _json.WriteBoolean(name, value);
        }
    }

    /// <summary>The job's task ids, in the targets' order unless a fault shuffled them.</summary>
    private void TaskIds(JobState job)
    {
        _json.WriteStartArray("TaskIDs"u8);
        if (job.TaskIdOrder is { } order)
        {
            foreach (int i in order)
            {
                _json.WriteStringValue(job.Tasks[i].TaskId);
            }
        }
        else
        {
            foreach (TaskState t in job.Tasks)
            {
                _json.WriteStringValue(t.TaskId);
            }
        }

        _json.WriteEndArray();
    }

    private void Time(ReadOnlySpan<byte> name, DateTimeOffset value)
    {
        // RFC 3339 in UTC with a Z, as a Go service writes it.
        Span<char> chars = stackalloc char[40];
        value.UtcDateTime.TryFormat(chars, out int n, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
        _json.WriteString(name, chars[..n]);
    }

    private sealed class Policy : PooledObjectPolicy<ResponseWriter>
    {
        public override ResponseWriter Create() => new();

        public override bool Return(ResponseWriter obj)
        {
            if (obj._buffer.Capacity > RetainLimit)
            {
                return false;
            }

            obj._nullZeroValues = false;
            obj._buffer.ResetWrittenCount();
            obj._json.Reset(obj._buffer);
            return true;
        }
    }
}

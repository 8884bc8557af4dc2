using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;

namespace ScrapeDo.Lean.Benchmarks.Rig;

/// <summary>
/// The fan-out floor: the least a client can do with a raw <see cref="HttpClient"/> against the same server, with the
/// runner's concurrency (16 jobs in flight, 16 task fetches at once, first poll after 250 ms then every 250 ms).
/// Per 1,000 targets it writes the create body with a <see cref="Utf8JsonWriter"/> into a pooled buffer, reads only
/// the job id and task ids from the answer, polls the job reading only its top-level status, then fetches every task
/// body into a pooled buffer without parsing it. As the control contender (<c>arrayPerBody</c>) it reads every task body
/// into a new array of its exact length instead, as a client that hands each result to its caller as an array the caller
/// owns must: the floor plus the cost of that contract, which the default runner has and its lease row has not.
/// </summary>
public static class FloorLoop
{
    private const int ChunkSize = 1000;
    private const int MaxJobsInFlight = 16;
    private const int MaxFetches = 16;
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(250);

    // Where the control contender's arrays go, so none of them is dead on arrival.
    private static byte[]? _lastBody;

    /// <summary>Runs <paramref name="urls"/> and returns how many task bodies came back with status 200; with
    /// <paramref name="arrayPerBody"/>, each into an array of its own (see the type's summary).</summary>
    public static async Task<int> RunAsync(HttpClient http, Uri baseAddress, string token, string[] urls, Version version, bool arrayPerBody = false)
    {
        var work = Channel.CreateUnbounded<(string Job, string Task)>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
        string prefix = new Uri(baseAddress, "api/v1/jobs/").ToString();
        int fetched = 0;
        Task[] fetchers = new Task[MaxFetches];
        for (int i = 0; i < fetchers.Length; i++)
        {
            fetchers[i] = Task.Run(async () =>
            {
                int ok = 0;
                await foreach ((string job, string task) in work.Reader.ReadAllAsync())
                {
                    using var request = Request(HttpMethod.Get, new Uri(string.Concat(prefix, job, "/", task)), token, version);
                    ok += (arrayPerBody ? await ReadIntoArrayAsync(http, request) : (await ReadAsync(http, request, statusOnly: false)).Status) == 200 ? 1 : 0;
                }

                Interlocked.Add(ref fetched, ok);
            });
        }

        using var jobGate = new SemaphoreSlim(MaxJobsInFlight);
        var jobs = new List<Task>();
        for (int start = 0; start < urls.Length; start += ChunkSize)
        {
            int from = start, count = Math.Min(ChunkSize, urls.Length - start);
            await jobGate.WaitAsync();
            jobs.Add(Task.Run(async () =>
            {
                try
                {
                    await RunJobAsync(http, prefix, token, version, urls.AsMemory(from, count), work.Writer);
                }
                finally
                {
                    jobGate.Release();
                }
            }));
        }

        await Task.WhenAll(jobs);
        work.Writer.Complete();
        await Task.WhenAll(fetchers);
        return fetched;
    }

    private static async Task RunJobAsync(HttpClient http, string prefix, string token, Version version, ReadOnlyMemory<string> targets, ChannelWriter<(string, string)> work)
    {
        var body = new PooledWriter();
        try
        {
            using (var writer = new Utf8JsonWriter(body))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("Targets");
                foreach (string target in targets.Span)
                {
                    writer.WriteStringValue(target);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            using var create = Request(HttpMethod.Post, new Uri(prefix.TrimEnd('/')), token, version);
            create.Content = new ByteArrayContent(body.Buffer, 0, body.Length);
            create.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            (string jobId, List<string> taskIds) = await CreateAsync(http, create);

            var jobUri = new Uri(prefix + jobId);
            await Task.Delay(PollEvery);
            while (true)
            {
                using var poll = Request(HttpMethod.Get, jobUri, token, version);
                if (await ReadAsync(http, poll, statusOnly: true) is (200, true))
                {
                    break;
                }

                await Task.Delay(PollEvery);
            }

            foreach (string taskId in taskIds)
            {
                await work.WriteAsync((jobId, taskId));
            }
        }
        finally
        {
            body.Dispose();
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri uri, string token, Version version)
    {
        var request = new HttpRequestMessage(method, uri) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("X-Token", token);
        return request;
    }

    private static async Task<(string JobId, List<string> TaskIds)> CreateAsync(HttpClient http, HttpRequestMessage create)
    {
        using HttpResponseMessage response = await http.SendAsync(create, HttpCompletionOption.ResponseHeadersRead);
        (byte[] buffer, int length) = await ReadAllAsync(response);
        try
        {
            if ((int)response.StatusCode != 200)
            {
                throw new InvalidOperationException($"create answered {(int)response.StatusCode}");
            }

            return ParseCreate(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static (string, List<string>) ParseCreate(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        string? jobId = null;
        var ids = new List<string>(ChunkSize);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            if (reader.ValueTextEquals("JobID"u8))
            {
                reader.Read();
                jobId = reader.GetString();
            }
            else if (reader.ValueTextEquals("TaskIDs"u8))
            {
                reader.Read();
                while (reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    ids.Add(reader.GetString()!);
                }
            }
        }

        return (jobId ?? throw new InvalidOperationException("create answer without JobID"), ids);
    }

    /// <summary>Sends and reads the body into pooled buffers; with <paramref name="statusOnly"/>, also says whether the
    /// job's top-level status is final (success, error or canceled).</summary>
    private static async Task<(int Status, bool Done)> ReadAsync(HttpClient http, HttpRequestMessage request, bool statusOnly)
    {
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!statusOnly)
        {
            await using Stream stream = await response.Content.ReadAsStreamAsync();
            byte[] scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                while (await stream.ReadAsync(scratch) > 0)
                {
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            return ((int)response.StatusCode, false);
        }

        (byte[] buffer, int length) = await ReadAllAsync(response);
        try
        {
            return ((int)response.StatusCode, IsFinal(buffer.AsSpan(0, length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends and reads the body into a new array of the length the response declares.</summary>
    private static async Task<int> ReadIntoArrayAsync(HttpClient http, HttpRequestMessage request)
    {
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        long length = response.Content.Headers.ContentLength ?? throw new InvalidOperationException("a task answer without Content-Length");
        byte[] body = new byte[length];
        await using Stream stream = await response.Content.ReadAsStreamAsync();
        await stream.ReadExactlyAsync(body);
        Volatile.Write(ref _lastBody, body);
        return (int)response.StatusCode;
    }

    private static bool IsFinal(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                bool status = reader.ValueTextEquals("Status"u8);
                reader.Read();
                if (status)
                {
                    return reader.ValueTextEquals("success"u8) || reader.ValueTextEquals("error"u8) || reader.ValueTextEquals("canceled"u8)
                        || reader.ValueTextEquals("SUCCESS"u8) || reader.ValueTextEquals("ERROR"u8) || reader.ValueTextEquals("CANCELED"u8);
                }

                reader.Skip();
            }
        }

        return false;
    }

    private static async Task<(byte[], int)> ReadAllAsync(HttpResponseMessage response)
    {
        await using Stream stream = await response.Content.ReadAsStreamAsync();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        int length = 0, n;
        while ((n = await stream.ReadAsync(buffer.AsMemory(length))) > 0)
        {
            length += n;
            if (length == buffer.Length)
            {
                byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }
        }

        return (buffer, length);
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool.</summary>
    private sealed class PooledWriter : IBufferWriter<byte>, IDisposable
    {
        public byte[] Buffer { get; private set; } = ArrayPool<byte>.Shared.Rent(64 * 1024);

        public int Length { get; private set; }

        public void Advance(int count) => Length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return Buffer.AsMemory(Length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return Buffer.AsSpan(Length);
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(Buffer);

        private void Ensure(int sizeHint)
        {
            if (Buffer.Length - Length >= Math.Max(sizeHint, 1))
            {
                return;
            }

            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(Buffer.Length * 2, Length + sizeHint));
            Buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = bigger;
        }
    }
}

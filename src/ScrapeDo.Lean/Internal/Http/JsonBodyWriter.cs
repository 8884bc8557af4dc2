using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.ObjectPool;

namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// A pooled pair of buffer and <see cref="Utf8JsonWriter"/> for request bodies: renting one saves the writer object,
/// its state and the first buffer on every create call.
/// </summary>
internal sealed class JsonBodyWriter : IDisposable
{
    // A writer that grew past this returns its array to the shared pool instead of keeping it in ours,
    // so one 1000-target create does not pin a large buffer for the life of the process.
    internal const int RetainedCapacityLimit = 256 * 1024;

    private static readonly ObjectPool<JsonBodyWriter> Pool = new DefaultObjectPool<JsonBodyWriter>(new Policy(), Environment.ProcessorCount * 2);

    private PooledBufferWriter _buffer = new();
    private readonly Utf8JsonWriter _writer;

    private JsonBodyWriter() => _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public static JsonBodyWriter Rent() => Pool.Get();

    public static void Return(JsonBodyWriter writer) => Pool.Return(writer);

    public void Write<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        JsonSerializer.Serialize(_writer, value, typeInfo);
        _writer.Flush();
    }

    /// <summary>Writes a create body with the hand-written <see cref="Json.CreateJobRequestWriter"/>.</summary>
    public void Write(CreateJobRequest request)
    {
        Json.CreateJobRequestWriter.Write(_writer, request);
        _writer.Flush();
    }

    public void Dispose() => _buffer.Dispose();

    private bool Reset()
    {
        if (_buffer.Capacity > RetainedCapacityLimit)
        {
            _buffer.Dispose();
            _buffer = new PooledBufferWriter();
        }

        _buffer.Clear();
        _writer.Reset(_buffer);
        return true;
    }

    private sealed class Policy : PooledObjectPolicy<JsonBodyWriter>
    {
        public override JsonBodyWriter Create() => new();

        public override bool Return(JsonBodyWriter obj) => obj.Reset();
    }
}

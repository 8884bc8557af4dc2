namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// Reads a response body the pipeline buffered whole, straight from the bytes instead of through the serializer, and
/// may keep the pooled buffer (the runner's poll keeps it as the memo the next poll is compared against). The pipeline
/// finds it as the converter of the call's <see cref="System.Text.Json.Serialization.Metadata.JsonTypeInfo{T}"/>; a
/// body without a length (chunked, or compressed) is gathered into a pooled buffer first, counted against the limit.
/// </summary>
/// <typeparam name="T">The value the call returns.</typeparam>
internal interface IBufferedBodyReader<T> : IWholeValueReader
{
    /// <summary>Reads the body.</summary>
    /// <param name="buffer">Rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>; the body is its first <paramref name="length"/> bytes.</param>
    /// <param name="length">The body's length.</param>
    /// <param name="keepsBuffer">True when the reader took <paramref name="buffer"/> and returns it to the pool itself.
    /// A reader that throws has not taken it.</param>
    /// <exception cref="System.Text.Json.JsonException">The body is not the expected JSON.</exception>
    T Read(byte[] buffer, int length, out bool keepsBuffer);
}

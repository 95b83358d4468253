using System.IO.Compression;
using System.Security.Cryptography;
using VirtApi.Machine.Memory;

namespace VirtApi.Snapshots;

/// <summary>
/// How a page of guest memory is stored: addressed by the SHA-256 of its bytes (a cryptographic hash,
/// so that no guest can craft a page that collides with another VM's and read its contents through
/// de-duplication), compressed with Brotli when that makes it smaller.
/// </summary>
public static class PageCodec
{
    // Quality 1 is Brotli's fastest setting; a 4 KiB window covers the page.
    private const int Quality = 1;
    private const int Window = 12;

    /// <summary>A page ready to store.</summary>
    public readonly record struct EncodedPage(string Hash, byte[] Data, bool Compressed);

    /// <summary>The page's hash (lower-case hex SHA-256).</summary>
    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static EncodedPage Encode(ReadOnlySpan<byte> page)
    {
        var hash = Hash(page);
        var buffer = new byte[SparseRam.FrameSize];
        if (BrotliEncoder.TryCompress(page, buffer, out var written, Quality, Window) && written < page.Length)
        {
            return new EncodedPage(hash, buffer[..written], true);
        }
        return new EncodedPage(hash, page.ToArray(), false);
    }

    /// <summary>
    /// The page's bytes if <paramref name="data"/> decodes to a page whose hash is <paramref name="hash"/>;
    /// null when it is damaged (does not decompress, has the wrong size, or hashes differently).
    /// </summary>
    public static byte[]? Decode(ReadOnlySpan<byte> data, bool compressed, string hash)
    {
        var page = new byte[SparseRam.FrameSize];
        if (compressed)
        {
            if (!BrotliDecoder.TryDecompress(data, page, out var written) || written != page.Length)
            {
                return null;
            }
        }
        else if (data.Length == page.Length)
        {
            data.CopyTo(page);
        }
        else
        {
            return null;
        }
        return string.Equals(Hash(page), hash, StringComparison.Ordinal) ? page : null;
    }

    /// <summary>Brotli at a middle setting for the machine-state JSON (small, and written once per snapshot).</summary>
    public static byte[] CompressState(ReadOnlySpan<byte> json)
    {
        var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(json.Length)];
        if (!BrotliEncoder.TryCompress(json, buffer, out var written, quality: 5, window: 22))
        {
            throw new InvalidOperationException("Brotli could not compress the machine state into its maximum compressed length");
        }
        return buffer[..written];
    }

    /// <summary>The machine-state JSON if it decompresses and hashes to <paramref name="hash"/>; null when damaged.</summary>
    public static byte[]? DecompressState(byte[] data, string hash)
    {
        try
        {
            using var input = new MemoryStream(data);
            using var brotli = new BrotliStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            brotli.CopyTo(output);
            var json = output.ToArray();
            return string.Equals(Hash(json), hash, StringComparison.Ordinal) ? json : null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}

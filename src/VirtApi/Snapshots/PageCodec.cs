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

    /// <summary>The page as stored, under <paramref name="hash"/>: its <see cref="Hash"/>, which the caller has computed already.</summary>
    public static EncodedPage Encode(string hash, ReadOnlySpan<byte> page)
    {
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

/// <summary>
/// A snapshot's page map as one value: for each guest frame in ascending order, the frame number
/// (u64, little-endian) and the page's SHA-256 (32 bytes), all zeros for a zero page (which is not
/// stored). One value per snapshot instead of a row per page keeps a capture of 64 MiB at one insert
/// (docs/decisions.md 12).
/// </summary>
public static class PageMapCodec
{
    private const int EntrySize = 40;

    /// <summary>One entry: a guest frame and its page's hash (hex), or null for a zero page.</summary>
    public readonly record struct Entry(long GuestFrame, string? Hash);

    public static byte[] Encode(IReadOnlyList<Entry> entries)
    {
        var map = new byte[entries.Count * EntrySize];
        for (var i = 0; i < entries.Count; i++)
        {
            var at = map.AsSpan(i * EntrySize, EntrySize);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(at, entries[i].GuestFrame);
            if (entries[i].Hash is { } hash)
            {
                Convert.FromHexString(hash, at[8..], out _, out _);
            }
        }
        return map;
    }

    /// <summary>The entries, or null when the map is damaged (not whole entries, or frames not ascending).</summary>
    public static List<Entry>? Decode(byte[] map)
    {
        if (map.Length % EntrySize != 0)
        {
            return null;
        }
        var entries = new List<Entry>(map.Length / EntrySize);
        for (var at = 0; at < map.Length; at += EntrySize)
        {
            var frame = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(map.AsSpan(at));
            var hash = map.AsSpan(at + 8, 32);
            if (frame < 0 || (entries.Count > 0 && frame <= entries[^1].GuestFrame))
            {
                return null;
            }
            entries.Add(new Entry(frame, hash.ContainsAnyExcept((byte)0) ? Convert.ToHexStringLower(hash) : null));
        }
        return entries;
    }
}

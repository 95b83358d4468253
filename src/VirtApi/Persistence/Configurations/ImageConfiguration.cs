using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence.Configurations;

internal sealed class ImageConfiguration : IEntityTypeConfiguration<ImageEntity>
{
    public void Configure(EntityTypeBuilder<ImageEntity> builder)
    {
        builder.ToTable("Images");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Name).HasMaxLength(63).IsRequired();
        builder.HasIndex(i => i.Name).IsUnique();
        builder.Property(i => i.Format).HasConversion(EnumNames.Converter<ImageFormat>()).HasMaxLength(16);
        builder.Property(i => i.Content).IsRequired();
    }
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * hybridctl map --png: the placement map of a volume as a PNG chart.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hybridctl.h"

/* Heat digit @c (0..f, from placement_map) as a colour; 8 and above alike. */
static void heat_rgb(char c, png_byte *px)
{
	/* 0 dark grey, then blue -> red -> yellow as heat doubles */
	static const png_byte pal[9][3] = {
		{ 40, 40, 40 }, { 30, 60, 160 }, { 60, 90, 200 },
		{ 120, 60, 190 }, { 180, 40, 140 }, { 220, 40, 60 },
		{ 240, 100, 30 }, { 250, 170, 20 }, { 255, 240, 60 },
	};

	memcpy(px, pal[c > '8' ? 8 : c - '0'], 3);
}

static void tier_rgb(char c, png_byte *px)
{
	static const png_byte unmapped[3] = { 225, 225, 225 };
	static const png_byte hdd[3] = { 70, 110, 180 };
	static const png_byte mixed[3] = { 170, 110, 190 };
	static const png_byte ssd[3] = { 240, 140, 20 };

	memcpy(px, c == 'S' ? ssd : c == 's' ? mixed : c == 'h' ? hdd :
	       unmapped, 3);
}

/* The rows of the chart; libpng reports errors by longjmp to here. */
static int png_rows(png_structp png, png_infop info, png_bytep row,
		    const struct hc_pmap *m, u32 cw, u32 w, u32 h)
{
	u32 x, y;

	if (setjmp(png_jmpbuf(png)))
		return -1;
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			png_byte *px = row + 3 * x;
			u32 bk = x / cw;

			if (y < 46)
				tier_rgb(m->tiers[bk], px);
			else if (y < 54)
				memset(px, 255, 3);
			else
				heat_rgb(m->heat[bk], px);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	return 0;
}

/*
 * A PNG chart: one column per bucket; the top band is the tier (orange
 * SSD, purple mixed, blue HDD, light grey unmapped), the bottom band the
 * heat (dark grey cold ... yellow hottest).
 */
int write_png(const char *file, const struct hc_pmap *m)
{
	u32 cw = m->buckets >= 1024 ? 1 : 1024 / m->buckets, w = cw * m->buckets;
	png_structp png;
	png_infop info = NULL;
	png_bytep row;
	FILE *f;
	int r = -1;

	f = fopen(file, "wbe");
	if (!f) {
		ctl_err("cannot write %s: %s.", file, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png)
		info = png_create_info_struct(png);
	row = malloc(3 * w);
	if (png && info && row) {
		png_init_io(png, f);
		r = png_rows(png, info, row, m, cw, w, 100);
	}
	if (png)
		png_destroy_write_struct(&png, info ? &info : NULL);
	free(row);
	if (fclose(f) || r) {
		ctl_err("cannot write the PNG chart %s.", file);
		unlink(file);
		return -1;
	}
	return 0;
}
